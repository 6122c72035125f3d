"""A learner's whole page is answered from the cache, for that learner's session only.

learners/page_cache.py keeps the module, lesson and dashboard pages whole once
rendered; these tests check who gets them back and what still moves them on.
"""

import re

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from wagtail.models import PageViewRestriction

from certification import services as certification_services
from learners import page_versions, services
from learners.models import User
from learners.page_versions import CSRF_PLACEHOLDER
from learners.session_models import ActivityEvent
from tests.certification.verification_data import make_certificate
from tests.learners.test_page_cache import (
    empty_cache,  # noqa: F401 - autouse: only this test's pages
    unprefixed,
)

DASHBOARD = "/moi/parcours/"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _kept_pages() -> list:
    if isinstance(cache._cache, dict):
        keys = [unprefixed(key) for key in cache._cache]
    else:
        keys = [
            unprefixed(key.decode())
            for key in cache._cache.get_client().scan_iter("*:learners:page:*")
        ]
    # Whatever release kept them (config/release.py).
    return [cache.get(key) for key in keys if ":learners:page:" in key]


def test_a_kept_page_is_answered_with_the_sign_in_check_alone_and_a_token_of_its_own(
    camille, journey, django_assert_num_queries
):
    services.enrol(camille, journey.track)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(camille)
    first = browser.get(journey.basics.url).content.decode()

    # The session's row with the account's (Django's own check), nothing else.
    with django_assert_num_queries(1):
        second = browser.get(journey.basics.url).content.decode()

    assert TOKEN.sub("", first) == TOKEN.sub("", second)
    assert CSRF_PLACEHOLDER not in second
    kept = [page for page in _kept_pages() if page is not None]
    assert len(kept) == 1
    assert CSRF_PLACEHOLDER in kept[0].content
    assert not any(token in kept[0].content for token in TOKEN.findall(second))
    # The kept page's logout form posts with this response's own token.
    token = TOKEN.findall(second)[0]
    assert browser.post(reverse("account_logout"), {"csrfmiddlewaretoken": token}).status_code in (
        302,
        200,
    )
    assert "_auth_user_id" not in browser.session


def test_another_learner_at_the_same_address_gets_their_own_page(
    client, camille, dominique, journey
):
    services.enrol(camille, journey.track)
    client.force_login(camille)
    client.get(DASHBOARD)
    assert camille.display_name in client.get(DASHBOARD).content.decode()
    other = Client()
    other.force_login(dominique)

    html = other.get(DASHBOARD).content.decode()

    assert dominique.display_name in html
    assert camille.display_name not in html


def test_a_session_from_before_a_password_change_never_gets_a_page_kept_after_it(camille):
    stolen = Client()
    stolen.force_login(camille)
    assert stolen.get(DASHBOARD).status_code == 200
    owner = Client()
    owner.force_login(camille)
    # The owner changes the password: their session carries the new hash, and the
    # page they then see is kept under versions the old session also reads.
    camille.set_password("un autre secret")
    camille.save()
    update_session_auth_hash_for(owner, camille)
    owner.get(DASHBOARD)
    assert owner.get(DASHBOARD).status_code == 200

    response = stolen.get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def update_session_auth_hash_for(browser: Client, user: User) -> None:
    session = browser.session
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.save()


def test_a_lesson_answered_from_the_cache_still_records_each_viewing(camille, journey):
    services.enrol(camille, journey.track)
    lesson = journey.basics.lessons().first()
    browser = Client()
    browser.force_login(camille)

    for _ in range(3):
        assert browser.get(lesson.url).status_code == 200

    assert [page for page in _kept_pages() if page is not None]
    views = ActivityEvent.objects.filter(
        learner=camille, kind=ActivityEvent.Kind.LESSON_VIEWED, page_id=lesson.pk
    )
    assert views.count() == 3


def test_a_certificate_revoked_by_update_leaves_the_kept_dashboard_at_once(client, camille):
    certificate = make_certificate(camille)
    client.force_login(camille)
    client.get(DASHBOARD)
    assert certificate.award.title in client.get(DASHBOARD).content.decode()

    assert certification_services.revoke(certificate, "Erreur de saisie.", by=None)

    assert certificate.award.title not in client.get(DASHBOARD).content.decode()


def test_a_page_is_not_kept_while_a_message_waits_and_shows_it(client, camille, journey):
    client.force_login(camille)
    client.get(journey.basics.url)
    client.get(journey.basics.url)

    response = client.post(reverse("learners:enrol", args=[journey.basics.pk]), follow=True)

    assert 'class="messages"' in response.content.decode()
    # Once shown, the message is gone from the next answer.
    assert 'class="messages"' not in client.get(journey.basics.url).content.decode()


def test_an_address_with_a_query_string_is_rendered_and_never_kept(client, camille, journey):
    client.force_login(camille)

    for padding in range(3):
        assert client.get(f"{journey.basics.url}?x={padding}").status_code == 200

    assert not [page for page in _kept_pages() if page is not None]


@pytest.mark.parametrize("change", ["password", "deactivation"])
def test_an_account_change_ends_the_old_session_even_when_the_cache_missed_it(
    camille, monkeypatch, change
):
    old = Client()
    old.force_login(camille)
    old.get(DASHBOARD)
    assert old.get(DASHBOARD).status_code == 200
    # Redis drops the version move: the kept page still matches every version.
    monkeypatch.setattr(page_versions, "write_invalidation", lambda *args, **kwargs: False)
    if change == "password":
        camille.set_password("un autre secret 123")
    else:
        camille.is_active = False
    camille.save()
    monkeypatch.undo()

    response = old.get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_signed_in_learners_not_found_page_carries_a_working_token(camille):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(camille)

    html = browser.get("/pas-de-page-ici/").content.decode()

    assert CSRF_PLACEHOLDER not in html
    token = TOKEN.findall(html)[0]
    browser.post(reverse("account_logout"), {"csrfmiddlewaretoken": token})
    assert "_auth_user_id" not in browser.session


def test_the_placeholder_typed_into_a_title_never_becomes_a_token(client, camille, journey):
    journey.basics.title = f"Module {CSRF_PLACEHOLDER}"
    journey.basics.save_revision().publish()
    client.force_login(camille)
    client.get(journey.basics.url)

    html = client.get(journey.basics.url).content.decode()

    assert f"Module {CSRF_PLACEHOLDER}" in html
    assert CSRF_PLACEHOLDER not in "".join(TOKEN.findall(html))


def test_a_lesson_refused_by_its_view_restriction_records_no_viewing(client, camille, journey):
    lesson = journey.basics.lessons().first()
    restriction = PageViewRestriction.objects.create(
        page=lesson, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(Group.objects.create(name="Agents de l'État"))
    client.force_login(camille)

    assert client.get(lesson.url).status_code == 302

    assert not ActivityEvent.objects.filter(learner=camille, page_id=lesson.pk).exists()


def test_a_page_kept_by_one_release_is_not_served_by_the_next_and_their_changes_reach_both(
    camille, journey, settings
):
    services.enrol(camille, journey.track)
    lesson = journey.basics.lessons().first()
    browser = Client()
    browser.force_login(camille)
    settings.CACHE_RELEASE = "2026.11.2"
    browser.get(lesson.url)
    assert len(_kept_pages()) == 1

    # The next release renders and keeps its own: its templates may have changed.
    settings.CACHE_RELEASE = "2026.11.3"
    browser.get(lesson.url)
    assert len(_kept_pages()) == 2

    # What it records ends the page the previous release kept, for a process of
    # the previous release still serving (the versions are shared).
    services.mark_lesson_done(camille, lesson)
    settings.CACHE_RELEASE = "2026.11.2"
    assert 'data-testid="lesson-done"' in browser.get(lesson.url).content.decode()
