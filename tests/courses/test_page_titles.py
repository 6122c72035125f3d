"""Each page's title tells it from the others (RGAA 8.6): a search, a results page,
the sign-in by code are not « Catalogue » or « Sign In » again."""

from bs4 import BeautifulSoup

from tests.courses.test_catalogue import CATALOGUE, sample  # noqa: F401 (a fixture)


def title_of(response) -> str:
    return BeautifulSoup(response.content, "html.parser").title.get_text(" ", strip=True)


def test_the_catalogue_s_title_names_the_search_and_the_page(client, sample):  # noqa: F811
    plain = title_of(client.get(CATALOGUE))
    searched = title_of(client.get(f"{CATALOGUE}?q=gouvernance"))
    assert searched != plain and "gouvernance" in searched
    assert "2" in title_of(client.get(f"{CATALOGUE}?page=2")).removesuffix("Campus Tiers-Lieux")
    assert title_of(client.get(f"{CATALOGUE}?page=1")) == plain


def test_the_sign_in_by_code_is_titled_as_its_heading(client, db):
    response = client.get("/comptes/login/code/")
    soup = BeautifulSoup(response.content, "html.parser")
    assert title_of(response).startswith(soup.h1.get_text(strip=True))
    assert title_of(response) != title_of(client.get("/comptes/login/"))
