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
