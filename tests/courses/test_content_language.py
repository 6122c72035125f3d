"""Pages of the CMS are written in French: in the English interface their text keeps
lang="fr", so that a screen reader reads it with French pronunciation (RGAA 8.7)."""

import pytest
from bs4 import BeautifulSoup

from courses.models import LessonPage
from tests.learners.factories import make_framework, make_module, make_track


@pytest.fixture
def track(db):
    track = make_track(make_framework(), "Piloter un tiers-lieu (test)")
    make_module(track, "Les bases", lessons=1, targets=[("B1.1", 2)])
    return track


@pytest.fixture
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def page_in_english(client, url: str) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200, url
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.html["lang"] == "en"
    return soup


def test_a_lesson_s_title_and_text_are_marked_french_in_the_english_interface(english, track):
    lesson = LessonPage.objects.live().descendant_of(track).get()
    soup = page_in_english(english, lesson.url)
    assert soup.h1["lang"] == "fr"
    text = soup.find(string=lambda s: "Contenu 1." in s)
    assert text.find_parent(attrs={"lang": "fr"}) is not None
    # The interface's words around it stay in the interface's language.
    assert soup.find(class_="breadcrumb").a.find_parent(attrs={"lang": "fr"}) is None


def test_a_module_s_and_a_track_s_text_are_marked_french(english, track):
    module = track.get_children().specific().get()
    soup = page_in_english(english, module.url)
    assert soup.h1["lang"] == "fr"
    assert soup.find(class_="lead")["lang"] == "fr"
    assert soup.find(string="Objectifs.").find_parent(attrs={"lang": "fr"}) is not None

    soup = page_in_english(english, track.url)
    assert soup.h1["lang"] == "fr"
    card = soup.select_one(".cards .card")
    assert card.h3["lang"] == "fr" and card.find("p")["lang"] == "fr"


def test_the_catalogue_s_cards_are_marked_french(english, track):
    soup = page_in_english(english, "/catalogue/")
    cards = soup.select(".cards .card")
    assert cards
    for card in cards:
        assert card.h3["lang"] == "fr"
