"""What bench/population.py and bench/load.py share: databases, folders, environment.

The benchmark runs the project as production does (debug off, PostgreSQL, a
Redis cache) against throw-away databases, so nothing here may touch the
developer's own database or var/ folder.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WRK_DIR = ROOT / "bench" / "wrk"
# Media, keys, static files and the fixtures the load generator reads.
VAR = Path(os.environ.get("BENCH_VAR_DIR", ROOT / "var" / "bench"))
FIXTURES = VAR / "fixtures.json"
ATTEMPTS = VAR / "attempts.csv"
# The attempts still open when a load run starts (an earlier run submitted some).
OPEN_ATTEMPTS = VAR / "attempts-open.csv"

SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
LARGE_DB = os.environ.get("BENCH_DATABASE", "campus_bench")
# A copy of the large database taken right after the demo was loaded: query
# counts on it are the « demo data » side of the comparison.
DEMO_DB = f"{LARGE_DB}_demo"
# A Redis database of its own, so the benchmark never flushes anyone else's keys.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def scale() -> float:
    return float(os.environ.get("BENCH_SCALE", "1"))


def database_url(name: str) -> str:
    return f"{SERVER_URL}/{name}"


def django_env(database: str, **extra: str) -> dict[str, str]:
    """The environment of a production-like process on `database`."""
    env = dict(os.environ)
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL", "EMAIL_HOST"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url(database),
        CAMPUS_VAR_DIR=str(VAR),
        DJANGO_DEBUG="false",
        SECRET_KEY="bench-only-not-a-secret-" + "x" * 32,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SITE_URL="http://127.0.0.1:8000",
        # wrk speaks plain HTTP to gunicorn, as the reverse proxy would.
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def setup_django(database: str, **extra: str) -> None:
    os.environ.update(django_env(database, **extra))
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL"):
        if name not in extra:
            os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
