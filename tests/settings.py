"""Test settings: the real settings, with a few values made fast and deterministic."""

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Each test run writes media to its own folder, never to var/media/.
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
AXES_ENABLED = True
ACCOUNT_RATE_LIMITS = False
