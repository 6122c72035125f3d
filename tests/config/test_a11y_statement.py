"""The accessibility statement says what a learner can do about a quiz's time limit."""

from bs4 import BeautifulSoup


def test_the_known_limits_say_that_quiz_time_limits_are_extended_on_request(client, db, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    soup = BeautifulSoup(client.get("/accessibilite/").content, "html.parser")
    limits = soup.find("h2", string="Known limits").find_next("ul")
    item = limits.find(attrs={"data-testid": "quiz-time-limits"})
    assert item is not None
    text = item.get_text()
    assert "extended on request" in text and "accommodation" in text
