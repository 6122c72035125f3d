"""The public catalogue: facets, counts, search, sort, pagination, and bad input."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import connection
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wagtail.search.backends import get_search_backend

from courses import catalogue_cache, views
from courses.models import CatalogPage, ModulePage
from tests.courses.factories import make_catalogue, make_sample_catalogue

CATALOGUE = "/catalogue/"


@pytest.fixture
def sample(db):
    return make_sample_catalogue()


def titles(response) -> list[str]:
    return [module.title for module in response.context["modules"]]


def counts(response) -> dict[str, dict[str, int]]:
    return {
        facet.name: {option.value: option.count for option in facet.options}
        for facet in response.context["facets"]
    }


def ignored(response) -> list[tuple[str, str]]:
    return [(item.name, item.value) for item in response.context["ignored"]]


def test_the_catalogue_lists_live_modules_by_title(client, sample):
    response = client.get(CATALOGUE)

    assert response.status_code == 200
    assert titles(response) == [
        "Animer une communauté",
        "Coopérer avec une commune",
        "Découvrir les tiers-lieux",
        "Gouvernance partagée",
        "Modèle économique",
    ]
    assert response.context["paginator"].count == 5
    assert ignored(response) == []


def test_the_catalogue_url_is_reversed_by_name(client, sample):
    assert reverse("courses:catalogue") == CATALOGUE


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("block=B2", {"economie", "communaute", "cooperer"}),
        ("competence=B1.1", {"gouvernance", "decouvrir"}),
        ("level=decouvrir", {"communaute", "decouvrir"}),
        ("audience=agents_publics", {"decouvrir", "cooperer"}),
        ("format=presentiel", {"economie"}),
        ("track=piloter", {"gouvernance", "economie", "communaute"}),
        ("duration_min=60", {"gouvernance", "economie", "cooperer"}),
        ("duration_max=45", {"communaute", "decouvrir"}),
        ("duration_min=45&duration_max=90", {"gouvernance", "communaute", "cooperer"}),
        # Several values of one facet widen the result…
        ("level=decouvrir&level=maitriser", {"communaute", "decouvrir", "economie"}),
        ("competence=B2.1&competence=B1.1", {"economie", "gouvernance", "decouvrir"}),
        # …and facets combine to narrow it.
        ("format=en_ligne&audience=facilitateurs", {"gouvernance"}),
        ("block=B1&level=appliquer&track=piloter", {"gouvernance"}),
        ("block=B2&format=hybride&duration_max=30", set()),
    ],
)
def test_each_facet_narrows_the_result(client, sample, query, expected):
    response = client.get(f"{CATALOGUE}?{query}")

    assert response.status_code == 200
    assert set(titles(response)) == {sample[key].title for key in expected}
    assert ignored(response) == []


def test_a_module_with_two_competences_of_a_block_is_listed_once(client, sample):
    response = client.get(f"{CATALOGUE}?block=B1")

    assert titles(response).count("Gouvernance partagée") == 1
    assert response.context["paginator"].count == 3


def test_facet_counts_cover_the_whole_catalogue_when_nothing_is_chosen(client, sample):
    response = client.get(CATALOGUE)

    assert counts(response) == {
        "block": {"B1": 3, "B2": 3},
        "competence": {"B1.1": 2, "B1.2": 2, "B2.1": 1, "B2.2": 2},
        "level": {"decouvrir": 2, "appliquer": 2, "maitriser": 1},
        "audience": {"facilitateurs": 3, "agents_publics": 2},
        "format": {"en_ligne": 3, "presentiel": 1, "hybride": 1},
        "track": {"piloter": 3, "sensibiliser": 2},
    }


def test_facet_counts_follow_the_current_result(client, sample):
    response = client.get(f"{CATALOGUE}?format=en_ligne")

    assert counts(response) == {
        "block": {"B1": 2, "B2": 1},
        "competence": {"B1.1": 2, "B1.2": 1, "B2.1": 0, "B2.2": 1},
        "level": {"decouvrir": 1, "appliquer": 2, "maitriser": 0},
        "audience": {"facilitateurs": 1, "agents_publics": 2},
        "format": {"en_ligne": 3, "presentiel": 0, "hybride": 0},
        "track": {"piloter": 1, "sensibiliser": 2},
    }


def test_a_draft_module_is_neither_listed_nor_counted(client, sample):
    response = client.get(CATALOGUE)

    assert "Brouillon caché" not in titles(response)
    assert ModulePage.objects.filter(title="Brouillon caché", live=False).exists()
    assert counts(response)["track"]["piloter"] == 3


def test_the_filter_form_is_a_plain_accessible_get_form(client, sample):
    soup = BeautifulSoup(client.get(f"{CATALOGUE}?format=en_ligne").content, "html.parser")
    form = soup.find("form", class_="catalogue-filters")

    assert form["method"] == "get"
    assert form.find("button", type="submit") is not None
    legends = [legend.get_text(strip=True) for legend in form.find_all("legend")]
    assert len(legends) == len(form.find_all("fieldset")) == 7  # six facets and the duration
    # Every input has a label, and a facet's count is part of its label's text.
    for field in form.find_all(["input", "select"]):
        assert form.find("label", attrs={"for": field["id"]}) is not None, field
    online = form.find("input", attrs={"name": "format", "value": "en_ligne"})
    assert online.has_attr("checked")
    assert form.find("label", attrs={"for": online["id"]}).get_text().strip().endswith("(3)")
    on_site = form.find("input", attrs={"name": "format", "value": "presentiel"})
    assert form.find("label", attrs={"for": on_site["id"]}).get_text().strip().endswith("(0)")
    status = soup.find(attrs={"role": "status"})
    assert status["data-count"] == "3" and "3" in status.get_text()


def test_cards_show_the_duration_and_competence_chips(client, sample):
    soup = BeautifulSoup(client.get(f"{CATALOGUE}?track=piloter").content, "html.parser")
    card = next(
        card for card in soup.select("li.card") if "Gouvernance partagée" in card.h3.get_text()
    )

    assert card.h3.a["href"] == sample["gouvernance"].url
    assert "90" in card.select_one(".duration").get_text()
    chips = [chip.contents[0].strip() for chip in card.select(".chips .chip")]
    assert chips == ["B1.1", "B1.2"]


def test_search_finds_modules_by_title_and_summary(client, sample):
    assert titles(client.get(f"{CATALOGUE}?q=gouvernance")) == ["Gouvernance partagée"]
    assert set(titles(client.get(f"{CATALOGUE}?q=collectif"))) == {
        "Gouvernance partagée",
        "Animer une communauté",
    }
    assert titles(client.get(f"{CATALOGUE}?q=introuvable")) == []


def test_search_finds_modules_by_the_code_or_title_of_a_competence_they_train(client, sample):
    assert titles(client.get(f"{CATALOGUE}?q=B2.1")) == ["Modèle économique"]
    assert set(titles(client.get(f"{CATALOGUE}?q=b2.2"))) == {
        "Animer une communauté",
        "Coopérer avec une commune",
    }
    assert set(titles(client.get(f"{CATALOGUE}?q=compétence B2.1"))) == {"Modèle économique"}


def test_search_combines_with_facets_and_counts(client, sample):
    response = client.get(f"{CATALOGUE}?q=collectif&format=hybride")

    assert titles(response) == ["Animer une communauté"]
    assert counts(response)["track"] == {"piloter": 1, "sensibiliser": 0}


def test_search_ignores_draft_modules(client, sample):
    assert titles(client.get(f"{CATALOGUE}?q=brouillon")) == []


def test_search_results_come_by_relevance_unless_another_order_is_asked(client, sample):
    ranked = [m.title for m in ModulePage.objects.live().search("collectif", operator="and")]

    by_relevance = client.get(f"{CATALOGUE}?q=collectif")
    by_title = client.get(f"{CATALOGUE}?q=collectif&sort=title")

    assert titles(by_relevance) == ranked
    assert titles(by_title) == ["Animer une communauté", "Gouvernance partagée"]
    selected = BeautifulSoup(by_relevance.content, "html.parser").select_one("#catalogue-sort")
    assert selected.find("option", selected=True)["value"] == "relevance"


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs DATABASE_URL on PostgreSQL")
def test_search_uses_postgresql_full_text_search_on_postgresql(client, sample):
    from modelsearch.backends.database.postgres.postgres import PostgresSearchBackend

    assert isinstance(get_search_backend(), PostgresSearchBackend)
    # Full-text, not substring: a word's stem finds the module, a fragment does not.
    assert titles(client.get(f"{CATALOGUE}?q=instances")) == ["Gouvernance partagée"]
    assert titles(client.get(f"{CATALOGUE}?q=instance")) == ["Gouvernance partagée"]
    assert titles(client.get(f"{CATALOGUE}?q=nstanc")) == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("title", ["communaute", "cooperer", "decouvrir", "gouvernance", "economie"]),
        ("duration", ["decouvrir", "communaute", "cooperer", "gouvernance", "economie"]),
        ("newest", ["economie", "cooperer", "communaute", "gouvernance", "decouvrir"]),
    ],
)
def test_sort_orders_the_result(client, sample, sort, expected):
    # Publication dates that differ from both title and duration order.
    day = timezone.now()
    for age, key in enumerate(["economie", "cooperer", "communaute", "gouvernance", "decouvrir"]):
        ModulePage.objects.filter(pk=sample[key].pk).update(
            first_published_at=day - timezone.timedelta(days=age)
        )

    response = client.get(f"{CATALOGUE}?sort={sort}")

    assert titles(response) == [sample[key].title for key in expected]


def test_pages_hold_twenty_modules_and_links_keep_the_filters(client, db):
    make_catalogue(modules=90)  # a third of them online: 30 modules, two pages

    first = client.get(f"{CATALOGUE}?format=en_ligne&sort=duration&level=zzz")
    assert len(first.context["modules"]) == 20
    assert first.context["paginator"].count == 30
    soup = BeautifulSoup(first.content, "html.parser")
    next_link = soup.find("a", rel="next")["href"]
    # The link carries the applied filters, and drops the value that was ignored.
    assert parse_qs(urlsplit(next_link).query) == {
        "format": ["en_ligne"],
        "sort": ["duration"],
        "page": ["2"],
    }

    second = client.get(next_link if next_link.startswith("/") else CATALOGUE + next_link)
    assert len(second.context["modules"]) == 10
    assert second.context["modules"].number == 2
    assert all(module.format == "en_ligne" for module in second.context["modules"])
    assert not set(titles(first)) & set(titles(second))


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ("level=abc", ("level", "abc")),
        ("competence=ZZZ", ("competence", "ZZZ")),
        ("block=B9", ("block", "B9")),
        ("audience=tout-le-monde", ("audience", "tout-le-monde")),
        ("format=papier", ("format", "papier")),
        ("track=inconnu", ("track", "inconnu")),
        ("duration_max=-3", ("duration_max", "-3")),
        ("duration_min=abc", ("duration_min", "abc")),
        ("duration_min=99999999999999999999999", ("duration_min", "99999999999999999999999")),
        ("page=9999", ("page", "9999")),
        ("page=0", ("page", "0")),
        ("page=deux", ("page", "deux")),
        ("sort=drop", ("sort", "drop")),
        ("q=" + "x" * 300, ("q", "x" * 300)),
    ],
)
def test_malformed_values_are_ignored_with_a_visible_notice(client, sample, query, notice):
    response = client.get(f"{CATALOGUE}?{query}")

    assert response.status_code == 200
    assert ignored(response) == [notice]
    assert response.context["paginator"].count == 5  # as if the value had not been sent
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find(id="ignored-filters") is not None


def test_empty_values_mean_no_filter(client, sample):
    response = client.get(f"{CATALOGUE}?q=&level=&competence=&duration_min=&sort=&page=")

    assert response.context["paginator"].count == 5
    assert ignored(response) == []


def test_an_unknown_value_does_not_drop_the_known_ones(client, sample):
    response = client.get(f"{CATALOGUE}?level=decouvrir&level=abc")

    assert set(titles(response)) == {"Animer une communauté", "Découvrir les tiers-lieux"}
    assert ignored(response) == [("level", "abc")]


def test_the_catalogue_page_served_by_wagtail_filters_the_same_way(client, sample):
    CatalogPage.objects.update(slug="formations", url_path="/campus/formations/")

    response = client.get("/formations/?format=en_ligne&level=abc")

    assert response.status_code == 200
    assert len(titles(response)) == 3
    assert ignored(response) == [("level", "abc")]


def test_the_main_menu_marks_the_catalogue_as_the_current_page(client, sample):
    soup = BeautifulSoup(client.get(CATALOGUE).content, "html.parser")
    link = soup.select_one(".main-nav").find("a", href=CATALOGUE)

    assert link["aria-current"] == "page"


PARAMETERS = [
    "q",
    "block",
    "competence",
    "level",
    "audience",
    "format",
    "track",
    "duration_min",
    "duration_max",
    "sort",
    "page",
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    params=st.lists(
        st.tuples(
            st.sampled_from(PARAMETERS) | st.text(max_size=5),
            st.sampled_from(["B1", "B1.1", "appliquer", "en_ligne", "piloter", "-1", "1e9"])
            | st.text(max_size=30),
        ),
        max_size=6,
    )
)
def test_no_query_string_breaks_the_catalogue(client, sample, params):
    response = client.get(CATALOGUE, params_as_list(params))

    if any("\x00" in name + value for name, value in params):
        # Refused before any view as malformed (tests/security/test_null_characters.py).
        assert response.status_code == 400
        return
    assert response.status_code == 200
    # Read from the page: a query repeated by an example is served as a copy, unrendered.
    count = BeautifulSoup(response.content, "html.parser").select_one(".result-count")
    assert int(count["data-count"]) <= 5


def params_as_list(params: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in params:
        grouped.setdefault(name, []).append(value)
    return grouped


def test_a_remembered_catalogue_is_served_without_queries_and_forgotten_on_publish(
    client, sample, django_assert_max_num_queries
):
    """Every visitor sees the same results for a query: their HTML is kept in the cache,
    and saving a page (publishing does) moves the catalogue's cache version on."""
    first = client.get(f"{CATALOGUE}?sort=title")
    with django_assert_max_num_queries(0):  # the catalogue page too is remembered
        again = client.get(f"{CATALOGUE}?sort=title")
    assert again.content.decode().count('class="card"') == 5

    module = sample["communaute"]
    module.title = "Animer une communauté locale"
    module.save_revision().publish()
    after = client.get(f"{CATALOGUE}?sort=title")

    assert "Animer une communauté locale" not in first.content.decode()
    assert "Animer une communauté locale" in after.content.decode()
    assert titles(after)[0] == "Animer une communauté locale"


def test_parameters_the_catalogue_does_not_know_share_the_copy_of_the_same_search(
    client, sample, django_assert_max_num_queries
):
    """Padding a query string with junk must not fill the shared cache with copies."""
    client.get(f"{CATALOGUE}?sort=title")
    with django_assert_max_num_queries(1):  # the catalogue page itself
        padded = client.get(f"{CATALOGUE}?sort=title&utm_source=x&junk=123")
    assert padded.content.decode().count('class="card"') == 5


def test_a_catalogue_version_lost_from_the_cache_never_comes_back_to_an_old_value(
    client, sample, monkeypatch
):
    """An evicted or flushed version key must not bring back entries stored under 0 or 1."""
    monkeypatch.setattr(catalogue_cache, "LOCAL_SECONDS", 0)
    client.get(f"{CATALOGUE}?sort=title")
    before = catalogue_cache.version()
    cache.delete(catalogue_cache.VERSION_KEY)

    after_eviction = catalogue_cache.version()
    catalogue_cache.forget()
    cache.delete(catalogue_cache.VERSION_KEY)
    catalogue_cache.forget()  # moved on from a missing key

    assert len({before, after_eviction, catalogue_cache.version()}) == 3


def test_a_publication_in_another_process_reaches_this_one_within_a_second(
    client, sample, monkeypatch
):
    # Later than anything this process remembers, so the page below reads the version.
    now = [catalogue_cache.time.monotonic() + 60]
    monkeypatch.setattr(catalogue_cache.time, "monotonic", lambda: now[0])
    client.get(f"{CATALOGUE}?sort=title")
    remembered = catalogue_cache.version()
    cache.incr(catalogue_cache.VERSION_KEY)  # as another worker's publication does

    assert catalogue_cache.version() == remembered  # within LOCAL_SECONDS
    now[0] += catalogue_cache.LOCAL_SECONDS
    assert catalogue_cache.version() == remembered + 1


class ClearedByAnotherThread(dict):
    """The process's memory of the catalogue page, emptied by another thread (a
    threaded server) right after each of this thread's reads."""

    def get(self, key, default=None):
        value = super().get(key, default)
        self.clear()
        return value

    def __contains__(self, key):
        found = super().__contains__(key)
        self.clear()
        return found

    def __getitem__(self, key):
        value = super().__getitem__(key)
        self.clear()
        return value


def test_the_catalogue_answers_when_another_thread_clears_the_remembered_page(
    client, sample, monkeypatch
):
    client.get(f"{CATALOGUE}?sort=title")  # this process remembers the page
    monkeypatch.setattr(views, "_catalogue_pages", ClearedByAnotherThread(views._catalogue_pages))

    response = client.get(f"{CATALOGUE}?sort=title")

    assert response.status_code == 200
    assert "Animer une communauté" in response.content.decode()


def test_the_catalogue_still_answers_when_its_version_cannot_be_read(client, sample, monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(catalogue_cache, "LOCAL_SECONDS", 0)
    monkeypatch.setattr(cache, "get_or_set", unreachable)

    response = client.get(f"{CATALOGUE}?sort=title")

    assert response.status_code == 200
    assert titles(response)[0] == "Animer une communauté"


def csrf_field(response) -> str:
    return BeautifulSoup(response.content, "html.parser").select_one(
        "input[name=csrfmiddlewaretoken]"
    )["value"]


def test_anonymous_visitors_share_one_copy_of_the_page_but_never_a_csrf_token(
    client, sample, monkeypatch
):
    stored = []
    remember = catalogue_cache.remember
    monkeypatch.setattr(
        catalogue_cache,
        "remember",
        lambda key, value: (stored.append((key, value)), remember(key, value)),
    )
    first = client.get(f"{CATALOGUE}?sort=title")
    other = Client()
    again = other.get(f"{CATALOGUE}?sort=title")

    assert again.templates == []  # served from the copy, not rendered
    assert again.content.decode().count('class="card"') == 5
    tokens = {csrf_field(first), csrf_field(again)}
    assert len(tokens) == 2
    # Each visitor's token is their own: it unmasks to the secret of their own cookie.
    assert _unmask_cipher_token(csrf_field(again)) == other.cookies["csrftoken"].value
    assert _unmask_cipher_token(csrf_field(first)) == client.cookies["csrftoken"].value
    shared = [value for key, value in stored if ":shared-page:" in key]
    assert len(shared) == 1
    assert not any(token in "".join(shared[0]) for token in tokens)
    assert "csrftoken" not in "".join(shared[0])


def test_the_language_switch_brings_each_visitor_back_to_their_own_address(client, sample):
    client.get(f"{CATALOGUE}?sort=title")
    padded = f'{CATALOGUE}?sort=title&utm_source="<b>'

    response = client.get(padded)

    assert response.templates == []
    html = response.content.decode()
    assert "<b>" not in html
    switch = BeautifulSoup(html, "html.parser").select_one(".language-switch")
    assert switch.select_one("input[name=next]")["value"] == response.wsgi_request.get_full_path()
    assert "utm_source" in switch.select_one("input[name=next]")["value"]


def test_a_signed_in_visitor_never_gets_the_anonymous_copy(client, sample, camille):
    client.get(f"{CATALOGUE}?sort=title")
    client.force_login(camille)

    response = client.get(f"{CATALOGUE}?sort=title")

    menu = BeautifulSoup(response.content, "html.parser").select_one(".main-nav")
    assert menu.find("a", href=reverse("learners:dashboard")) is not None
    assert menu.find("a", href=reverse("account_login")) is None


def test_a_message_reaches_its_anonymous_visitor_even_when_the_page_is_shared(client, sample):
    client.get(f"{CATALOGUE}?sort=title")
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies["messages"] = storage._encode([Message(constants.INFO, "Vous êtes déconnecté.")])

    response = client.get(f"{CATALOGUE}?sort=title")
    seen_later = client.get(f"{CATALOGUE}?sort=title")

    assert "Vous êtes déconnecté." in response.content.decode()
    assert "Vous êtes déconnecté." not in seen_later.content.decode()
    assert csrf_field(response) != csrf_field(seen_later)


def test_the_copy_served_by_wagtail_does_not_mark_the_menu_as_the_stable_url_does(client, sample):
    CatalogPage.objects.update(slug="formations", url_path="/campus/formations/")
    catalogue_cache.forget()  # update() sends no signal
    for _ in range(2):
        stable = client.get(CATALOGUE)
        tree = client.get("/formations/")

    def marked(response) -> bool:
        menu = BeautifulSoup(response.content, "html.parser").select_one(".main-nav")
        return menu.find("a", href=CATALOGUE).has_attr("aria-current")

    assert stable.templates == [] and tree.templates == []
    assert marked(stable) and not marked(tree)


def test_this_process_keeps_its_copy_of_a_shared_page_no_longer_than_the_shared_cache(
    client, sample, monkeypatch
):
    monkeypatch.setattr(views, "_shared_pages", {})
    client.get(f"{CATALOGUE}?sort=title")
    (key,) = views._shared_pages
    assert views._kept_shared_page(key) is not None

    later = time.monotonic() + catalogue_cache.CATALOGUE_CACHE_SECONDS
    monkeypatch.setattr(views.time, "monotonic", lambda: later)

    assert views._kept_shared_page(key) is None


@pytest.mark.parametrize(
    "typed", ['"', 'a"b', "gouvernance*", "(gouvernance", "^gouvernance:", "NEAR("]
)
def test_search_syntax_typed_by_a_visitor_is_read_as_words_never_as_an_error(client, sample, typed):
    response = client.get(CATALOGUE, {"q": typed})
    assert response.status_code == 200
    expected = ["Gouvernance partagée"] if "gouvernance" in typed else []
    assert titles(response) == expected
    api = client.get("/api/modules", {"q": typed})
    assert api.status_code == 200
