"""Test settings: the real settings, with a few values made fast and deterministic."""

import os
from urllib.parse import urlsplit

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
AXES_ENABLED = True
ACCOUNT_RATE_LIMITS = False

# pytest-xdist runs the suite in worker processes "gw0", "gw1"… side by side.
# Each takes its own media folder and its own Redis databases (the base number
# plus its index), so that no worker reads another's tasks, cache or files.
# PostgreSQL needs nothing: pytest-django names each worker's test database.
_XDIST_INDEX = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def _worker_redis_url(url: str) -> str:
    parts = urlsplit(url)
    if not _XDIST_INDEX or parts.scheme not in {"redis", "rediss"}:
        return url
    database = (int(parts.path.strip("/") or 0) + _XDIST_INDEX) % 16
    return parts._replace(path=f"/{database}").geturl()


# Each test run writes media to its own folder, never to var/media/.
MEDIA_ROOT = VAR_DIR / (f"test-media-{_XDIST_INDEX}" if _XDIST_INDEX else "test-media")  # noqa: F405
# Celery reads these variables before any setting (and worker subprocesses
# inherit them), so the environment changes along with the settings.
for _name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL"):
    if os.environ.get(_name):
        os.environ[_name] = _worker_redis_url(os.environ[_name])
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
if os.environ.get("CACHE_URL"):
    CACHES["default"]["LOCATION"] = os.environ["CACHE_URL"]  # noqa: F405
