"""Tests that need PostgreSQL itself (row locks, a database shared with subprocesses):
skipped on the embedded SQLite, run by CI's second leg."""

import os

import pytest


def on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres")


def needs_postgres() -> pytest.MarkDecorator:
    return pytest.mark.skipif(not on_postgres(), reason="needs DATABASE_URL pointing at PostgreSQL")


# For a module's `pytestmark`, or a test's decorators one by one.
ONLY_ON_POSTGRES = [pytest.mark.postgres, needs_postgres()]
