"""The public figures of a track (Qualiopi indicators 2 and 3), computed nightly.

Each figure takes a fixed number of queries per track (and per session over for the
people trained), whatever the number of learners:
- people trained: learners who completed the track, or attended a session of it that
  is over (attendance, or online activity during an online session, alone earns the
  certificat de réalisation);
- satisfaction rate: share of ratings of 4 or 5 out of 5, among the « à chaud »
  answers about the track's modules and the answered « à froid » surveys of the
  track, counted by whole groups of the publication threshold, oldest first;
- success rate: among the learners assessed (who submitted at least one quiz of
  the track's modules and have either completed the track or no longer follow it
  nor any of its modules), the share who completed it. Learners still on their
  way are left out, neither success nor failure yet.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from courses.models import ModulePage, TrackPage
from learners import activity
from learners.models import (
    Attempt,
    ColdSurvey,
    Enrolment,
    Satisfaction,
    TrackCompletion,
    TrackIndicators,
    User,
)
from learners.session_models import Seat, TrainingSession

SATISFIED_FROM = 4  # out of 5


def rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _people_trained(track: TrackPage, today: datetime.date) -> int:
    """Completions, plus whoever attended a session of the track that is over as the
    certificat de réalisation counts it, once each. A few queries per session over:
    sessions are few, and the learners of a track many."""
    attendees: set[int] = set()
    for session in TrainingSession.objects.filter(track=track, ends_on__lt=today):
        holders = Seat.objects.confirmed().filter(session=session)
        attendees |= activity.attending_ids(
            session, list(holders.values_list("learner_id", flat=True))
        )
    completed = TrackCompletion.objects.filter(track=track)
    both = completed.filter(learner_id__in=attendees).count() if attendees else 0
    return completed.count() + len(attendees) - both


def _ratings(queryset) -> tuple[int, int]:
    counts = queryset.aggregate(
        answers=Count("pk"), satisfied=Count("pk", filter=Q(rating__gte=SATISFIED_FROM))
    )
    return counts["satisfied"], counts["answers"]


def _success(track: TrackPage, modules) -> tuple[int, int]:
    learner = OuterRef("pk")
    completed = TrackCompletion.objects.filter(learner=learner, track=track)
    still_following = Enrolment.objects.active().filter(
        Q(track=track) | Q(module__in=modules), learner=learner
    )
    sat_a_quiz = Attempt.objects.quizzes().filter(
        learner=learner, module__in=modules, status=Attempt.Status.SUBMITTED
    )
    counts = (
        User.objects.filter(Exists(sat_a_quiz))
        .annotate(completed=Exists(completed))
        .filter(Q(completed=True) | ~Exists(still_following))
        .aggregate(assessed=Count("pk"), succeeded=Count("pk", filter=Q(completed=True)))
    )
    return counts["succeeded"], counts["assessed"]


def _newest_ratings(hot, cold, count: int) -> list[int]:
    """The ratings of the `count` newest answers, « à chaud » and « à froid » together."""
    newest = [
        *hot.order_by("-created_at", "-pk").values_list("created_at", "rating")[:count],
        *cold.order_by("-answered_at", "-pk").values_list("answered_at", "rating")[:count],
    ]
    newest.sort(key=lambda answer: answer[0], reverse=True)
    return [rating for _at, rating in newest[:count]]


def compute(track: TrackPage, now: datetime.datetime | None = None) -> TrackIndicators:
    """Compute and store the public figures of `track`; returns its saved row."""
    # Unpublished modules keep their answers: they were given about this track.
    modules = ModulePage.objects.child_of(track).values("pk")
    hot = Satisfaction.objects.filter(module__in=modules)
    cold = ColdSurvey.objects.answered().filter(track=track, rating__isnull=False)
    hot_satisfied, hot_answers = _ratings(hot)
    cold_satisfied, cold_answers = _ratings(cold)
    satisfied, answers = hot_satisfied + cold_satisfied, hot_answers + cold_answers
    # A trainer who knows who answered last would read that rating off the rate's move
    # from one night to the next: the newest answers wait until they make a whole group
    # (as on the trainers' own summary), so each move mixes several people's answers.
    received = answers
    waiting = answers % max(1, settings.PUBLIC_INDICATORS_MIN_ANSWERS)
    if waiting:
        newest = _newest_ratings(hot, cold, waiting)
        satisfied -= sum(1 for rating in newest if rating >= SATISFIED_FROM)
        answers -= waiting
    # Too few for a rate: the page gives how many came in (it reveals no rating), not
    # the whole groups' count, which would read « 0 réponse » after four.
    shown_answers = answers if answers else received
    succeeded, assessed = _success(track, modules)
    indicators, _ = TrackIndicators.objects.update_or_create(
        track=track,
        defaults={
            "people_trained": _people_trained(track, timezone.localdate(now)),
            "satisfaction_rate": rate(satisfied, answers),
            "satisfaction_answers": shown_answers,
            "success_rate": rate(succeeded, assessed),
            "success_base": assessed,
            "computed_at": now or timezone.now(),
        },
    )
    return indicators


def refresh_all(now: datetime.datetime | None = None) -> int:
    """Recompute the figures of every live track; returns how many tracks."""
    now = now or timezone.now()
    tracks = list(TrackPage.objects.live())
    for track in tracks:
        compute(track, now=now)
    return len(tracks)
