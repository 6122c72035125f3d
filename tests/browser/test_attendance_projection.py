"""The attendance page a trainer projects in the room changes its code by itself: when
the half-day opens, and when it closes and the next one's code takes its place. Its grid
follows: the opened half-day's buttons, the signatures to confirm."""

import datetime
import time

from django.urls import reverse
from django.utils import timezone

from courses.models import TrackPage
from courses.models.pages import Format
from learners import attendance
from learners.models import User
from learners.session_models import HalfDay, Seat, TrainingSession

DEMO_PASSWORD = "campus-demo"
TRAINER = "formateur@example.org"
LEARNER = "facilitatrice@example.org"


def test_the_projected_code_opens_then_gives_way_to_the_next_half_days(demo, page, log_in):
    log_in(page, TRAINER, DEMO_PASSWORD)
    # The times are taken once signed in, with room for a slow machine to load the page.
    now = timezone.localtime()
    if (now + datetime.timedelta(seconds=20)).date() != now.date():
        time.sleep(21)  # the first half-day must not run past midnight: start tomorrow
        now = timezone.localtime()
    opens = now + datetime.timedelta(seconds=10)
    closes = opens + datetime.timedelta(seconds=5)
    tomorrow = now.date() + datetime.timedelta(days=1)
    session = TrainingSession.objects.create(
        track=TrackPage.objects.get(slug="piloter-un-tiers-lieu"),
        format=Format.ON_SITE,
        starts_on=now.date(),
        ends_on=tomorrow,
        place_name="Fabrique de territoire de Die",
        place_address="2 rue du Test, 26150 Die",
        capacity=12,
    )
    session.trainers.set([User.objects.get(email=TRAINER)])
    learner = User.objects.get(email=LEARNER)
    Seat.objects.create(
        session=session, learner=learner, status=Seat.Status.CONFIRMED, confirmed_at=now
    )
    first = HalfDay.objects.create(
        session=session,
        date=now.date(),
        period=HalfDay.Period.MORNING,
        starts_at=opens.time().replace(microsecond=0),
        ends_at=closes.time().replace(microsecond=0),
    )
    # The next half-day to sign, once the first closes: tomorrow morning's.
    second = HalfDay.objects.create(
        session=session,
        date=tomorrow,
        period=HalfDay.Period.MORNING,
        starts_at=datetime.time(9),
        ends_at=datetime.time(12, 30),
    )
    page.goto(reverse("learners:session_attendance", args=[session.pk]))
    code = page.locator("[data-testid=attendance-code]")
    state = page.locator("[data-testid=attendance-code-state]")
    assert (code.inner_text(), state.inner_text()) == (first.code, "Pas encore ouvert.")
    assert page.locator("[data-attendance-projection] [data-field=updating]").is_visible()

    confirm_all = page.locator(f"[data-testid=confirm-all-{first.pk}]")
    assert confirm_all.count() == 0  # not open yet: nothing to confirm

    page.wait_for_selector("[data-testid=attendance-code-state][data-open=yes]", timeout=20_000)
    assert (code.inner_text(), state.inner_text()) == (first.code, "Ouvert en ce moment.")
    # The grid followed: the opened half-day has its « confirm all » button.
    confirm_all.wait_for(timeout=5_000)
    attendance.sign_in_with_code(learner, first.code)
    announcement = page.locator("[data-attendance-announcement]").inner_text()
    assert first.code in announcement and "Ouvert en ce moment." in announcement

    page.wait_for_selector(
        f"[data-testid=attendance-projection][data-half-day='{second.pk}']", timeout=15_000
    )
    # Tomorrow's code is not shown the day before: only when it will be.
    later = page.locator("[data-testid=attendance-code-later]").inner_text()
    assert "à partir de 08:30" in later and second.code not in page.content()
    assert code.count() == 0
    # Her signature shows in the grid, to confirm, without a reload.
    signed = page.locator(
        f"tr[data-learner='{learner.pk}'] td[data-half-day='{first.pk}'][data-state=present]"
    )
    signed.wait_for(timeout=5_000)
    assert signed.get_attribute("data-confirmed") == "no"
