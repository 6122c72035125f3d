"""A timed quiz in the browser: the time left is shown, and when it runs out the
page sends the answers given so far, which are scored instead of being lost."""

import re
from datetime import timedelta

from django.utils import timezone

from courses.models import ModulePage, TrackPage
from learners import assessments
from learners.models import Attempt, User

DEMO_PASSWORD = "campus-demo"
FACILITATOR = "facilitatrice@example.org"


def test_when_the_time_runs_out_the_page_sends_the_answers_given(demo, page, log_in):
    track = TrackPage.objects.get(slug="piloter-un-tiers-lieu")
    # The demo facilitator passed the first module's quiz; the second one is open to her.
    module = ModulePage.objects.live().child_of(track).order_by("path")[1]
    learner = User.objects.get(email=FACILITATOR)
    attempt = assessments.start_attempt(learner, module)
    choice = next(q for q in attempt.questions if q["type"] in ("single_choice", "true_false"))
    right = next(o["key"] for o in choice["options"] if o["correct"])
    log_in(page, FACILITATOR, DEMO_PASSWORD)
    # A few seconds left, as if the learner had spent the rest of the time already.
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + timedelta(seconds=6))

    page.goto(f"/moi/quiz/{attempt.pk}/")
    assert page.locator("[data-testid=quiz-time-left]").inner_text() == "Il reste une minute."
    page.check(f"#q-{choice['id']}-{right}")

    page.wait_for_url(re.compile(rf"/moi/quiz/{attempt.pk}/resultat/$"), timeout=20_000)

    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED  # scored, not expired at zero
    assert attempt.submitted_at <= attempt.deadline + assessments.LATE_GRACE
    assert attempt.answers.get(question_id=choice["id"]).score == 1


def test_back_to_a_page_cached_with_an_older_count_keeps_the_end_of_its_first_showing(
    demo, page, log_in
):
    track = TrackPage.objects.get(slug="piloter-un-tiers-lieu")
    module = ModulePage.objects.live().child_of(track).order_by("path")[1]
    learner = User.objects.get(email=FACILITATOR)
    attempt = assessments.start_attempt(learner, module)
    log_in(page, FACILITATOR, DEMO_PASSWORD)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + timedelta(seconds=8))
    quiz_url = f"/moi/quiz/{attempt.pk}/"
    page.goto(quiz_url)
    page.goto("/moi/")

    def as_cached_twenty_minutes_earlier(route):
        if route.request.method != "GET":
            return route.continue_()  # the answers the page sends reach the server
        response = route.fetch()
        body = re.sub(r'data-seconds-left="\d+"', 'data-seconds-left="1200"', response.text())
        route.fulfill(response=response, body=body)

    page.route(f"**{quiz_url}", as_cached_twenty_minutes_earlier)
    page.go_back()
    assert page.locator("[data-testid=quiz-time-left]").inner_text() == "Il reste une minute."

    page.wait_for_url(re.compile(rf"/moi/quiz/{attempt.pk}/resultat/$"), timeout=20_000)

    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED
    assert attempt.submitted_at <= attempt.deadline + assessments.LATE_GRACE
