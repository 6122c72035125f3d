"""Ids in URLs: a number too long for the database is an unknown address, never a 500."""

import pytest
from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter

HUGE = "9" * 30


def project_patterns(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from project_patterns(entry, route)
        elif isinstance(entry, URLPattern):
            module = getattr(entry.callback, "__module__", "")
            if module.startswith(("courses", "certification", "learners", "config")):
                yield route, entry


def test_no_project_url_reads_an_id_with_django_s_unbounded_int():
    unbounded = [
        route
        for route, entry in project_patterns()
        if any(isinstance(c, IntConverter) for c in entry.pattern.converters.values())
    ]
    assert unbounded == []


@pytest.fixture(autouse=True)
def fresh_cache():
    # Unmatched, the address goes to the page router, which remembers sites in the
    # cache: another test's site, remembered there, would be routed to here.
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(
    "path",
    [
        f"/moi/amenagement/{HUGE}/",
        f"/moi/places/{HUGE}/annuler/",
        f"/certificats/{HUGE}/openbadge.jwt",
        f"/organisation/agents/{HUGE}/retirer/",
    ],
)
def test_a_thirty_digit_id_is_an_unknown_page(client, staff, path):
    client.force_login(staff)
    assert client.get(path).status_code == 404


def test_every_admin_viewset_of_the_project_reads_ids_with_the_bounded_converter():
    from wagtail.admin.viewsets import viewsets

    assert get_resolver().url_patterns  # loading the admin's URLs registers its viewsets

    ours = [
        viewset
        for viewset in viewsets.viewsets
        if type(viewset).__module__.startswith(("courses", "certification", "learners"))
    ]
    assert len(ours) >= 10
    assert {
        type(v).__name__: v.pk_path_converter for v in ours if v.pk_path_converter != "pk"
    } == {}
