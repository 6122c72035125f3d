"""Each page's title tells it from the others (RGAA 8.6): a search, a results page,
the sign-in by code are not « Catalogue » or « Sign In » again."""

from unittest.mock import patch

from bs4 import BeautifulSoup

from courses.filters import MAX_QUERY_LENGTH
from tests.courses.test_catalogue import CATALOGUE, sample  # noqa: F401 (a fixture)


def title_of(response) -> str:
    return BeautifulSoup(response.content, "html.parser").title.get_text(" ", strip=True)


def test_the_catalogue_s_title_names_the_search_and_the_page(client, sample):  # noqa: F811
    plain = title_of(client.get(CATALOGUE))
    searched = title_of(client.get(f"{CATALOGUE}?q=gouvernance"))
    assert searched != plain and "gouvernance" in searched
    assert title_of(client.get(f"{CATALOGUE}?page=1")) == plain


def test_the_catalogue_s_title_names_the_page_shown(client, sample):  # noqa: F811
    with patch("courses.views.MODULES_PER_PAGE", 2):
        second = title_of(client.get(f"{CATALOGUE}?page=2"))
        # Five modules make three pages: the last is shown for any page past it.
        past_the_end = title_of(client.get(f"{CATALOGUE}?page=9"))
    assert "page 2" in second
    assert "page 3" in past_the_end and "9" not in past_the_end


def test_the_catalogue_s_title_names_no_search_the_filter_refused(client, sample):  # noqa: F811
    plain = title_of(client.get(CATALOGUE))
    assert title_of(client.get(f"{CATALOGUE}?q={'x' * (MAX_QUERY_LENGTH + 1)}")) == plain
    assert title_of(client.get(f"{CATALOGUE}?q=%20%20")) == plain


def test_the_sign_in_by_code_is_titled_as_its_heading(client, db):
    response = client.get("/comptes/login/code/")
    soup = BeautifulSoup(response.content, "html.parser")
    assert title_of(response).startswith(soup.h1.get_text(strip=True))
    assert title_of(response) != title_of(client.get("/comptes/login/"))
