"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Every test here is marked `browser` and runs in a transactional database with
serialized rollback (see `pytest_collection_modifyitems`).
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API keeps an asyncio loop running in the main thread once the
# browser is up, and Django then refuses ORM calls from tests ("async context").
# The calls are in fact synchronous, so the guard is lifted for the whole session:
# the browser is session-scoped, so the loop outlives any single test.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
# Without the networking flags Chromium keeps trying to reach Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Bounded waits: a broken page fails in seconds, not at the CI job's timeout.
DEFAULT_TIMEOUT_MS = 10_000
NAVIGATION_TIMEOUT_MS = 20_000

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        # The live server answers from another thread, so the test's data must be
        # committed (transaction=True). A transactional test ends with a flush that
        # also wipes what migrations created (Wagtail's root page, default site);
        # serialized rollback puts that back before each test.
        if item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Once Playwright's sync API is up, test code resumes in another contextvars
    # context, where Django's connection handler (an asgiref Local) would hand out
    # fresh connection wrappers that know nothing of the test database's set-up
    # (serialized rollback would silently restore nothing). Carry ours over.
    wrappers = {alias: connections[alias] for alias in connections}
    with sync_playwright() as playwright:
        for alias, wrapper in wrappers.items():
            connections[alias] = wrapper
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open a page in a fresh context: one per person in a multi-user story."""
    contexts = []

    def open_page(locale: str = "fr-FR"):
        context = browser.new_context(base_url=live_server.url, locale=locale)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A page in a fresh browser context (no cookies), with relative URLs on the live server."""
    return new_page()


@pytest.fixture
def log_in():
    """Log in through allauth's form, as a person would; lands on the learner's page."""

    def log_in_as(page, email: str, password: str) -> None:
        page.goto("/comptes/login/")
        page.fill("#id_login", email)
        page.fill("#id_password", password)
        page.click("form[action='/comptes/login/'] [type=submit]")
        page.wait_for_url(re.compile(r"/moi/parcours/$"))

    return log_in_as
