"""A timed quiz keeps the time left in view while the learner scrolls, and its answers,
all marked required, still go when the time is up with some left blank."""

# Fixtures come from the modules that define them: imported, then named as arguments.
# ruff: noqa: F401, F811
import re
from datetime import timedelta

from django.utils import timezone

from learners import assessments, services
from learners.models import Attempt
from tests.browser.test_error_announcement import signed_in
from tests.learners.conftest import journey
from tests.learners.quiz_helpers import every_type, set_quiz


def test_the_time_left_stays_in_view_and_blank_required_answers_do_not_stop_the_sending(
    page, live_server, journey, camille
):
    services.enrol(camille, journey.track)
    # Long enough to scroll through, even on a tall screen.
    module = set_quiz(journey.basics, every_type() * 3, time_limit_minutes=20, max_attempts=None)
    attempt = assessments.start_attempt(camille, module)
    # Some seconds left: the page sends the answers five seconds before the end.
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + timedelta(seconds=15))
    signed_in(page, live_server, camille)
    page.set_viewport_size({"width": 800, "height": 500})

    page.goto(f"/moi/quiz/{attempt.pk}/")
    box = page.locator("[data-testid=quiz-time-left]")
    assert box.is_visible()
    page.locator("[data-testid=quiz-submit]").scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 500
    top = box.bounding_box()["y"]
    assert 0 <= top < 1  # stuck to the top of the window
    # On top of the questions scrolled under it, not hidden behind them.
    assert page.evaluate(
        """() => {
            const box = document.getElementById('quiz-time-left').getBoundingClientRect();
            const hit = document.elementFromPoint(box.left + 5, box.top + box.height / 2);
            return document.getElementById('quiz-time-left').contains(hit);
        }"""
    )

    page.wait_for_url(re.compile(rf"/moi/quiz/{attempt.pk}/resultat/$"), timeout=20_000)
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED  # sent, though nothing was answered
