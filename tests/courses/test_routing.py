"""Pages are found by their URL in a fixed number of queries, with Wagtail's rules kept."""

import pytest
from django.core.cache import cache
from wagtail.models import Page, Site

from courses import catalogue_cache, routing
from courses.models import LessonPage, ModulePage, TrackPage
from tests.cache_expiry import seconds_left_of


@pytest.fixture
def pages(demo):
    module = ModulePage.objects.live().first()
    return {
        "track": TrackPage.objects.live().first(),
        "module": module,
        "lesson": LessonPage.objects.live().child_of(module).first(),
    }


@pytest.mark.parametrize("kind", ["track", "module", "lesson"])
def test_every_page_is_served_at_its_url_with_its_parent_for_the_breadcrumb(client, pages, kind):
    page = pages[kind]
    response = client.get(page.url)
    assert response.status_code == 200
    assert response.context["page"].pk == page.pk
    assert response.context["page"].get_parent().pk == page.get_parent().pk


def test_an_unpublished_page_and_an_unknown_url_answer_404(client, pages):
    module = pages["module"]
    url = module.url
    module.unpublish()
    assert client.get(url).status_code == 404
    assert client.get("/catalogue/nulle-part/").status_code == 404


def test_a_changed_site_is_not_remembered_past_the_change(client, pages):
    assert client.get("/").status_code == 200
    site = Site.objects.get(is_default_site=True)
    site.root_page = pages["track"]
    site.save()
    # The track is now the root: its module is served one level up.
    assert client.get(f"/{pages['module'].slug}/").status_code == 200


def test_the_router_falls_back_to_wagtail_when_the_cache_is_unreachable(pages, rf, monkeypatch):
    from courses.routing import find_route, find_site

    lesson_path = pages["lesson"].url
    request = rf.get(lesson_path)

    def unreachable(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", unreachable)
    monkeypatch.setattr(cache, "get_or_set", unreachable)
    assert find_site(request) == Site.objects.get(is_default_site=True)
    assert find_route(request, lesson_path) is None  # Wagtail walks the tree instead


def test_a_page_unpublished_in_another_process_is_not_served_from_this_ones_memory(client, pages):
    module = pages["module"]
    url = module.url
    for _ in range(2):  # its route is remembered (the first may start the version)
        assert client.get(url).status_code == 200
    remembered = catalogue_cache.version()

    # Another process unpublishes it and moves the version on; this process
    # still remembers the old version for up to LOCAL_SECONDS.
    Page.objects.filter(pk=module.pk).update(live=False)
    cache.set(catalogue_cache.VERSION_KEY, remembered + 1, None)
    assert catalogue_cache.version() == remembered

    assert client.get(url).status_code == 404


def test_the_catalogue_moves_on_again_once_a_page_change_commits(
    pages, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        catalogue_cache.forget()
        # What a request between the signal and the commit stores its route under.
        before_commit = cache.get(catalogue_cache.VERSION_KEY)

    assert cache.get(catalogue_cache.VERSION_KEY) not in (None, before_commit)
    assert catalogue_cache.version() == cache.get(catalogue_cache.VERSION_KEY)


def test_a_route_is_remembered_for_a_minute_at_most(client, pages):
    for _ in range(2):  # the first may find the version key missing and start it
        client.get(pages["lesson"].url)
    left = seconds_left_of(lambda key: ":courses:catalogue:" in key and ":served-page:" in key)
    assert left
    assert all(0 < seconds <= routing.ROUTE_CACHE_SECONDS for seconds in left)
