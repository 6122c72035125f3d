"""Training sessions built directly with the ORM, with explicit half-days and times."""

import datetime

from django.utils import timezone

from courses.models import TrackPage
from courses.models.pages import Format
from learners.models import User
from learners.session_models import HalfDay, Seat, TrainingSession

# A Tuesday: the half-days of the tests run on it unless they say otherwise.
DAY = datetime.date(2026, 3, 10)
MORNING = (datetime.time(9, 0), datetime.time(12, 30))
AFTERNOON = (datetime.time(13, 30), datetime.time(17, 0))


def at(day: datetime.date, hour: int, minute: int = 0, second: int = 0) -> datetime.datetime:
    """A moment of `day`, local time (Europe/Paris), as the half-days' windows are."""
    return datetime.datetime.combine(
        day, datetime.time(hour, minute, second), tzinfo=timezone.get_current_timezone()
    )


def make_session(
    track: TrackPage,
    *,
    trainers: list[User] = (),
    learners: list[User] = (),
    starts_on: datetime.date = DAY,
    ends_on: datetime.date | None = None,
    format: str = Format.BLENDED,
    title: str = "",
) -> TrainingSession:
    session = TrainingSession.objects.create(
        track=track,
        title=title,
        format=format,
        starts_on=starts_on,
        ends_on=ends_on or starts_on,
        place_name="Fabrique de territoire de Die",
        place_address="2 rue du Test, 26150 Die",
        capacity=12,
    )
    session.trainers.set(trainers)
    # Places taken a week before: a place given once a half-day was over leaves that
    # half-day « not registered yet » on the sheet (a late joiner).
    booked = at(starts_on - datetime.timedelta(days=7), 10)
    for learner in learners:
        Seat.objects.create(
            session=session,
            learner=learner,
            status=Seat.Status.CONFIRMED,
            requested_at=booked,
            confirmed_at=booked,
        )
    return session


def add_half_day(
    session: TrainingSession,
    day: datetime.date = DAY,
    period: str = HalfDay.Period.MORNING,
    hours: tuple[datetime.time, datetime.time] | None = None,
    online: bool = False,
) -> HalfDay:
    if hours is None:
        hours = MORNING if period == HalfDay.Period.MORNING else AFTERNOON
    return HalfDay.objects.create(
        session=session,
        date=day,
        period=period,
        starts_at=hours[0],
        ends_at=hours[1],
        online=online,
    )


def add_half_day_open_all_day(session: TrainingSession, day: datetime.date) -> HalfDay:
    """A half-day open from midnight to midnight: for views, which sign at the real now."""
    return add_half_day(session, day, hours=(datetime.time(0, 0), datetime.time(23, 59, 59)))
