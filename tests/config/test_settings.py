"""The settings contract: embedded by default, production refuses to start half-configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from certification import keys

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO", "SECRET", "ALLOWED"))
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def production_env(tmp_path, settings) -> dict[str, str]:
    # An operator generates the Open Badges issuer key before going live.
    settings.OPENBADGES_KEY_PATH = tmp_path / "keys" / "openbadges-issuer.jwk"
    keys.generate()
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": "a-long-random-production-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "campus.example.org",
        "SITE_URL": "https://campus.example.org",
        "CAMPUS_VAR_DIR": str(tmp_path),
    }


def test_check_deploy_prints_no_warning_with_a_production_environment(production_env):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL"])
def test_production_mode_refuses_to_start_without(missing, production_env):
    del production_env[missing]
    result = manage("check", env=production_env)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_check_deploy_warns_of_a_site_url_that_is_not_https(production_env):
    production_env["SITE_URL"] = "http://campus.example.org"
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)
    assert result.returncode != 0
    assert "campus.W001" in result.stdout + result.stderr


def test_check_deploy_warns_of_a_missing_open_badges_issuer_key(production_env, tmp_path):
    (tmp_path / "keys" / "openbadges-issuer.jwk").unlink()
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)
    assert result.returncode != 0
    assert "campus.W002" in result.stdout + result.stderr
    assert "generate_issuer_key" in result.stdout + result.stderr


def read_settings(env: dict[str, str], *expressions: str) -> list[str]:
    """Evaluate settings expressions in a fresh interpreter with exactly `env` on top."""
    script = (
        "import django; django.setup(); from django.conf import settings; print("
        + ", ".join(expressions)
        + ")"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_with_no_environment_the_platform_runs_embedded(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", CAMPUS_VAR_DIR=str(tmp_path))
    engine, eager, media, language = read_settings(
        env,
        "settings.DATABASES['default']['ENGINE']",
        "settings.CELERY_TASK_ALWAYS_EAGER",
        "settings.MEDIA_ROOT",
        "settings.LANGUAGE_CODE",
    )
    assert engine == "django.db.backends.sqlite3"
    assert eager == "True"
    assert media == str(tmp_path / "media")
    assert language == "fr"


def test_database_and_broker_urls_switch_to_postgresql_and_redis(tmp_path):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        CAMPUS_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/campus",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    assert read_settings(
        env, "settings.DATABASES['default']['ENGINE']", "settings.CELERY_TASK_ALWAYS_EAGER"
    ) == ["config.postgresql", "False"]


def test_every_model_change_has_its_migration():
    result = manage(
        "makemigrations", "--check", "--dry-run", env={"DJANGO_SETTINGS_MODULE": "tests.settings"}
    )
    assert result.returncode == 0, result.stdout + result.stderr
