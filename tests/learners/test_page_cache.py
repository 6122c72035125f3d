"""A learner's module, lesson and dashboard pages come from the cache, never stale.

learners/page_versions.py keeps each learner's main fragment rendered; these
tests act, then reload, the way a learner would.
"""

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from learners import assessments, page_versions, services, sessions
from learners.models import Attempt
from learners.page_versions import CSRF_PLACEHOLDER
from tests.cache_expiry import seconds_left
from tests.learners.quiz_helpers import set_quiz, single
from tests.learners.test_sessions import make_session

DASHBOARD = "/moi/parcours/"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NEXT = re.compile(r'name="next" value="([^"]*)"')


@pytest.fixture(autouse=True)
def empty_cache():
    """Only this test's fragments: earlier tests' (expired or not) stay in the same process."""
    cache.clear()
    yield
    cache.clear()


def _fragments() -> list[str]:
    """The stored fragments' full keys (with Django's prefix), in local memory or Redis."""
    if isinstance(cache._cache, dict):
        keys = list(cache._cache)
    else:
        keys = [key.decode() for key in cache._cache.get_client().scan_iter("*:learners:*")]
    return [key for key in keys if ":learners:fragment:" in key]


def unprefixed(full_key: str) -> str:
    """A stored key as the code asks for it: without Django's prefix and version."""
    return full_key.removeprefix(cache.make_key(""))


def test_a_lesson_marked_done_shows_on_the_module_and_lesson_pages_at_once(
    client, camille, journey
):
    services.enrol(camille, journey.track)
    first, second = journey.basics.lessons()
    client.force_login(camille)
    assert 'data-testid="mark-lesson-done"' in client.get(first.url).content.decode()
    module_before = client.get(journey.basics.url).content.decode()

    client.post(reverse("learners:lesson_done", args=[first.pk]))

    assert 'data-testid="lesson-done"' in client.get(first.url).content.decode()
    module_after = client.get(journey.basics.url).content.decode()
    assert module_after != module_before
    assert f'href="{second.url}" id="resume-button"' in module_after


def test_a_second_visit_is_served_from_the_cache_in_fewer_queries(
    client, camille, journey, django_assert_num_queries
):
    services.enrol(camille, journey.track)
    services.mark_lesson_done(camille, journey.basics.lessons().first())
    client.force_login(camille)
    first = client.get(journey.basics.url).content.decode()

    # The session's row, the account's with it (learners/account_sessions.py;
    # sessions live in the database, see config/settings.py): the whole page, its
    # route and view restrictions come from the cache (learners/page_cache.py).
    with django_assert_num_queries(1):
        second = client.get(journey.basics.url).content.decode()
    client.get(DASHBOARD)
    with django_assert_num_queries(1):
        client.get(DASHBOARD)

    assert TOKEN.sub("", first) == TOKEN.sub("", second)
    assert _fragments()


def test_the_cache_holds_no_other_learner_and_no_csrf_token(client, camille, dominique, journey):
    services.enrol(camille, journey.track)
    services.mark_lesson_done(camille, journey.basics.lessons().first())
    client.force_login(camille)
    client.get(journey.basics.url)
    client.get(DASHBOARD)
    other = Client()
    other.force_login(dominique)

    page = other.get(journey.basics.url).content.decode()
    dashboard = other.get(DASHBOARD).content.decode()

    assert 'data-testid="enrol"' in page
    assert 'data-testid="leave"' not in page
    assert camille.display_name not in dashboard
    assert 'data-testid="track-enrolment"' not in dashboard
    stored = [cache.get(unprefixed(key)) for key in _fragments()]
    stored = [entry for entry in stored if entry is not None]  # not expired
    assert stored
    real_token = re.compile(r'csrfmiddlewaretoken" value="(?!csrf-token-placeholder)')
    assert not any(real_token.search(html) for _versions, html in stored)
    assert CSRF_PLACEHOLDER not in page + dashboard


def test_a_form_from_a_cached_page_posts_with_its_own_token(camille, journey):
    services.enrol(camille, journey.track)
    lesson = journey.basics.lessons().first()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(camille)
    browser.get(lesson.url)

    cached = browser.get(lesson.url).content.decode()
    token = TOKEN.findall(cached)[-1]

    response = browser.post(
        reverse("learners:lesson_done", args=[lesson.pk]), {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_another_learners_cancellation_moves_the_waiting_list_on_the_dashboard(
    client, camille, dominique, journey
):
    session = make_session(journey.track, capacity=1)
    taken = sessions.take_seat(dominique, session)
    sessions.take_seat(camille, session)
    client.force_login(camille)
    assert 'data-seat-status="waiting" data-rank="1"' in client.get(DASHBOARD).content.decode()

    sessions.cancel_seat(taken)

    assert 'data-seat-status="confirmed"' in client.get(DASHBOARD).content.decode()


def test_a_published_edit_shows_on_the_module_page(client, camille, journey):
    services.enrol(camille, journey.track)
    client.force_login(camille)
    client.get(journey.basics.url)

    journey.basics.title = "Les bases, revues"
    journey.basics.save_revision().publish()

    assert "Les bases, revues" in client.get(journey.basics.url).content.decode()


def test_a_message_still_shows_above_a_cached_page(client, camille, journey):
    client.force_login(camille)
    assert 'data-testid="enrol"' in client.get(journey.basics.url).content.decode()

    response = client.post(reverse("learners:enrol", args=[journey.basics.pk]), follow=True)

    assert response.redirect_chain[-1][0] == journey.basics.url
    html = response.content.decode()
    assert 'class="messages"' in html
    assert 'data-testid="leave"' in html


def test_pages_render_from_the_database_when_the_cache_is_down(
    client, camille, journey, monkeypatch
):
    services.enrol(camille, journey.track)
    client.force_login(camille)

    def unreachable(*args, **kwargs):
        raise ConnectionError("Redis is down")

    stored_before = set(_fragments())
    monkeypatch.setattr(page_versions.cache, "get_many", unreachable)
    for url in (journey.basics.url, journey.basics.lessons().first().url, DASHBOARD):
        response = client.get(url)
        assert response.status_code == 200
        assert CSRF_PLACEHOLDER not in response.content.decode()
    assert set(_fragments()) == stored_before


@pytest.mark.parametrize("kind", ["seat", "enrolment"])
def test_a_write_moves_only_its_own_learners_version_or_the_sessions(
    camille, dominique, journey, kind
):
    before = (page_versions.versions(camille.pk), page_versions.versions(dominique.pk))
    if kind == "seat":
        sessions.take_seat(dominique, make_session(journey.track))
    else:
        services.enrol(dominique, journey.track)
    after = (page_versions.versions(camille.pk), page_versions.versions(dominique.pk))

    assert after[1] != before[1]
    # A seat changes the places left for everyone; an enrolment only its learner.
    assert (after[0] != before[0]) is (kind == "seat")


def test_an_editors_preview_is_never_served_from_the_cache(rf, camille, journey):
    services.enrol(camille, journey.track)
    module = journey.basics

    def preview(title: str) -> str:
        module.title = title  # an unsaved form: no version moves on
        request = rf.get(module.url)
        request.user = camille
        request.is_preview = True  # what Wagtail's preview handler sets before serve_preview
        return module.serve_preview(request, module.default_preview_mode).render().content.decode()

    stored_before = set(_fragments())
    assert '<h1 lang="fr">Première version</h1>' in preview("Première version")
    assert '<h1 lang="fr">Seconde version</h1>' in preview("Seconde version")
    assert set(_fragments()) == stored_before


def test_a_logout_whose_cache_delete_is_lost_still_ends_the_session(camille, monkeypatch):
    client = Client()
    client.force_login(camille)
    assert client.get(DASHBOARD).status_code == 200
    cookie = client.cookies["sessionid"].value
    # What ResilientRedisCache.delete answers in its back-off window or an outage.
    monkeypatch.setattr(cache, "delete", lambda *args, **kwargs: False)
    client.post(reverse("account_logout"))
    monkeypatch.undo()

    replay = Client()
    replay.cookies["sessionid"] = cookie
    response = replay.get(DASHBOARD)

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_a_quiz_closed_by_its_time_limit_no_longer_offers_to_resume_it(client, camille, journey):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [single()], time_limit_minutes=5)
    attempt = assessments.start_attempt(camille, module)
    client.force_login(camille)
    link = re.compile(r'id="quiz-link"[^>]*>([^<]*)<')
    before = link.findall(client.get(module.url).content.decode())
    Attempt.objects.filter(pk=attempt.pk).update(
        deadline=timezone.now() - assessments.LATE_GRACE - timedelta(minutes=1)
    )
    page_versions.touch([camille.pk])  # the test's own update() above, not the code's
    attempt.refresh_from_db()
    client.get(module.url)

    with pytest.raises(assessments.AssessmentRefused):
        assessments.submit_attempt(attempt, {})

    assert link.findall(client.get(module.url).content.decode()) != before


def test_the_learners_app_moves_versions_on_without_importing_the_pages_module():
    # A Celery worker or a management command imports neither the template tags
    # nor the assessments: the app itself must connect the receivers.
    code = "import sys, django; django.setup(); print('learners.page_versions' in sys.modules)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
        cwd=settings.BASE_DIR,
    )
    assert result.stdout.strip() == "True"


def test_the_cancel_button_of_a_cached_dashboard_returns_to_the_page_without_its_query(
    client, camille, journey
):
    sessions.take_seat(camille, make_session(journey.track))
    client.force_login(camille)
    client.get(DASHBOARD + "?from=mail")

    html = client.get(DASHBOARD).content.decode()

    assert set(NEXT.findall(html)) == {DASHBOARD}


def test_a_learners_version_expires_long_after_their_fragments_and_restarts_afresh(
    camille, journey
):
    services.enrol(camille, journey.track)
    key = page_versions._learner_key(camille.pk)
    left = seconds_left(key)
    assert left is not None
    assert left > 10 * page_versions.FRAGMENT_SECONDS

    before = page_versions.versions(camille.pk)
    cache.delete(key)  # expired
    after = page_versions.versions(camille.pk)

    assert after is not None
    assert after[-1] != before[-1]
