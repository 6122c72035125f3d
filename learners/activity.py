"""Online activity kept as proof of completion: recorded as it happens, summarised per learner.

An online or blended session must show that each learner actually followed
the online parts (time spent, lessons done, quizzes). Each event is one insert
on the request that caused it; the arithmetic happens when someone asks.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from courses.models.pages import Format
from learners.models import User
from learners.session_models import ActivityEvent, Attendance, TrainingSession

# Events closer than this belong to one sitting; a longer silence means the
# learner left, and the silence is not counted as time spent.
SITTING_GAP = datetime.timedelta(minutes=30)
# A sitting of a single event (a login, a lesson opened then nothing) still
# took some reading: a fixed, modest allowance rather than zero.
ISOLATED_EVENT = datetime.timedelta(minutes=5)


def tracked(user) -> bool:
    """Whose activity is kept: learners, not trainers previewing lessons nor staff."""
    return user.is_authenticated and not user.is_staff and user.role != User.Role.TRAINER


def record(
    learner_id: int,
    kind: str,
    page_id: int | None = None,
    at: datetime.datetime | None = None,
) -> ActivityEvent:
    # Keys, not instances: callers have the ids at hand and must not pay a query for them.
    return ActivityEvent.objects.create(
        learner_id=learner_id, kind=kind, page_id=page_id, at=at or timezone.now()
    )


@dataclass(frozen=True)
class ActivitySummary:
    time_spent: datetime.timedelta
    lessons_done: int
    quizzes_submitted: int
    first_connection: datetime.datetime | None
    last_connection: datetime.datetime | None

    @property
    def minutes(self) -> int:
        return round(self.time_spent.total_seconds() / 60)


def summarise_events(events: Iterable[ActivityEvent]) -> ActivitySummary:
    """Time spent is the sum of the gaps of at most 30 minutes between consecutive
    events, plus 5 minutes for each event with no other within 30 minutes."""
    events = list(events)
    moments = sorted(event.at for event in events)
    kinds = [event.kind for event in events]
    spent = datetime.timedelta()
    for index, moment in enumerate(moments):
        gap_before = moment - moments[index - 1] if index else None
        gap_after = moments[index + 1] - moment if index + 1 < len(moments) else None
        if gap_before is not None and gap_before <= SITTING_GAP:
            spent += gap_before
        alone = all(gap is None or gap > SITTING_GAP for gap in (gap_before, gap_after))
        if alone:
            spent += ISOLATED_EVENT
    return ActivitySummary(
        time_spent=spent,
        lessons_done=kinds.count(ActivityEvent.Kind.LESSON_DONE),
        quizzes_submitted=kinds.count(ActivityEvent.Kind.QUIZ_SUBMITTED),
        first_connection=moments[0] if moments else None,
        last_connection=moments[-1] if moments else None,
    )


def summarise(learner: User, start: datetime.datetime, end: datetime.datetime) -> ActivitySummary:
    """The learner's online activity from `start` (included) to `end` (excluded)."""
    events = list(
        ActivityEvent.objects.filter(learner=learner, at__gte=start, at__lt=end).only("at", "kind")
    )
    return summarise_events(events)


def session_window(session: TrainingSession) -> tuple[datetime.datetime, datetime.datetime]:
    """From the first day's midnight to the midnight after the last day, local time."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(session.starts_on, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(
        session.ends_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    return start, end


# Sessions whose online activity counts as attending them.
ONLINE_FORMATS = (Format.ONLINE, Format.BLENDED)


def has_online_parts(session: TrainingSession) -> bool:
    return session.format in ONLINE_FORMATS


def attending_ids(session: TrainingSession, learner_ids: list[int]) -> set[int]:
    """Those of `learner_ids` who attended `session` at all: present for a half-day,
    or active online during its dates when it has online parts. Two queries at most.

    What earns the certificat de réalisation (certification/eligibility.py), and
    counts someone as trained in a track's public figures (learners/indicators.py).
    """
    attended = set(
        Attendance.objects.counted()
        .filter(half_day__session=session, learner_id__in=learner_ids)
        .values_list("learner_id", flat=True)
    )
    rest = [pk for pk in learner_ids if pk not in attended]
    if rest and has_online_parts(session):
        start, end = session_window(session)
        attended |= set(
            ActivityEvent.objects.filter(learner_id__in=rest, at__gte=start, at__lt=end)
            .values_list("learner_id", flat=True)
            .distinct()
        )
    return attended


@dataclass(frozen=True)
class LearnerActivity:
    learner: User
    summary: ActivitySummary


def session_activity(session: TrainingSession) -> list[LearnerActivity]:
    """Each confirmed attendee's summary over the session's dates, in two queries."""
    start, end = session_window(session)
    learners = [
        seat.learner
        for seat in session.seats.confirmed()
        .select_related("learner")
        .order_by("learner__full_name", "learner__email")
    ]
    events = defaultdict(list)
    for event in ActivityEvent.objects.filter(
        learner__in=[learner.pk for learner in learners], at__gte=start, at__lt=end
    ).only("learner_id", "at", "kind"):
        events[event.learner_id].append(event)
    return [LearnerActivity(learner, summarise_events(events[learner.pk])) for learner in learners]
