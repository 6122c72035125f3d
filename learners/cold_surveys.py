"""Satisfaction « à froid » (Qualiopi indicator 30): scheduled at completion, mailed later.

A survey row is created when a learner completes a track, due three calendar
months later. A daily beat task mails the surveys that fell due, then one
reminder two weeks after the first mail to those who have not answered. Every
step takes `now`, so that tests travel in time instead of waiting.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from courses.models import TrackPage
from learners import activity
from learners.dates import add_months
from learners.models import TrackCompletion, User
from learners.quality_models import ColdSurvey
from learners.session_models import Attendance, Seat, TrainingSession

logger = logging.getLogger(__name__)

COLD_SURVEY_DELAY_MONTHS = 3
REMINDER_AFTER = datetime.timedelta(days=14)


class SurveyAlreadyAnswered(Exception):
    """The survey has an answer already: the first one stands."""


# --- Scheduling ----------------------------------------------------------------------


def due_date(completed_at: datetime.datetime) -> datetime.datetime:
    # Calendar months in local time: completing on 30 November at 23:30 in Paris
    # means a survey at the end of February, not on 1 March.
    return add_months(timezone.localtime(completed_at), COLD_SURVEY_DELAY_MONTHS)


def schedule(learner: User, track: TrackPage) -> tuple[ColdSurvey, bool]:
    """Create the learner's « à froid » survey for `track` once; a second call returns it."""
    existing = ColdSurvey.objects.filter(learner=learner, track=track).first()
    if existing is not None:
        return existing, False
    session_id, trained_until = _training_of(learner.pk, track.pk)
    try:
        # The unique constraint on (learner, track), not the lookup above, is
        # what keeps two concurrent completions to one survey.
        with transaction.atomic():
            survey = ColdSurvey.objects.create(
                learner=learner,
                track=track,
                session_id=session_id,
                due_at=due_date(trained_until or timezone.now()),
            )
    except IntegrityError:
        return ColdSurvey.objects.get(learner=learner, track=track), False
    return survey, True


def _training_of(learner_id: int, track_id: int) -> tuple[int | None, datetime.datetime | None]:
    """The session the survey is about (her latest confirmed place) and when her training
    ends: the online part's completion, or that session's end if later. None: neither."""
    completion = TrackCompletion.objects.filter(learner_id=learner_id, track_id=track_id).first()
    ends = [completion.completed_at] if completion else []
    seat = (
        Seat.objects.confirmed()
        .filter(learner_id=learner_id, session__track_id=track_id)
        .select_related("session")
        .order_by("-session__starts_on", "-pk")
        .first()
    )
    if seat is not None:
        # Three months after the training, online part and session both: a session
        # still to come is part of what the survey asks about.
        ends.append(_end_of(seat.session.ends_on))
    return (seat.session_id if seat else None), max(ends, default=None)


def _follow_the_training(survey: ColdSurvey) -> datetime.datetime:
    """Until its first mail, a survey follows her places as they are now: a place
    cancelled, or one taken since it was scheduled, changes the session it is about and
    when it falls due. Returns when it falls due."""
    session_id, trained_until = _training_of(survey.learner_id, survey.track_id)
    if session_id == survey.session_id:
        return survey.due_at
    due_at = due_date(trained_until) if trained_until else survey.due_at
    # Not once mailed (a concurrent run): its session is then the one it asked about.
    ColdSurvey.objects.filter(pk=survey.pk, sent_at__isnull=True).update(
        session_id=session_id, due_at=due_at
    )
    return due_at


def follow_places(learner_id: int, track_id: int) -> None:
    """A confirmed place of hers was cancelled: her survey not sent yet, if any, follows.
    (A place taken is caught before the mail goes, which it can only postpone.)"""
    survey = ColdSurvey.objects.filter(
        learner_id=learner_id, track_id=track_id, sent_at__isnull=True
    ).first()
    if survey is not None:
        _follow_the_training(survey)


def _end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(18, 0)))


# A session's attendees are looked for this long after it ended: a daily pass that
# missed a few days (workers down) still finds them.
ATTENDEES_LOOKED_FOR = datetime.timedelta(days=30)


def schedule_for_attendees(now: datetime.datetime | None = None) -> int:
    """Surveys for those who attended a session lately over, with none for its track yet.

    Attendance alone earns the certificat de réalisation, without the online track whose
    completion schedules the survey otherwise: such learners were never asked. Attended
    as the certificat de réalisation counts it: a signed half-day, or online activity
    during an online or blended session (`activity.attending_ids`).
    """
    today = timezone.localdate(now)
    over = TrainingSession.objects.filter(
        ends_on__lt=today, ends_on__gte=today - ATTENDEES_LOOKED_FOR
    )
    attended = set(
        Attendance.objects.counted()
        .filter(half_day__session__in=over)
        .values_list("learner_id", "half_day__session__track_id")
    )
    for session in over.filter(format__in=activity.ONLINE_FORMATS):
        holders = list(session.seats.confirmed().values_list("learner_id", flat=True))
        attended |= {
            (learner_id, session.track_id)
            for learner_id in activity.attending_ids(session, holders)
        }
    created = 0
    for learner_id, track_id in sorted(attended):
        if ColdSurvey.objects.filter(learner_id=learner_id, track_id=track_id).exists():
            continue
        # An erased or closed account is asked nothing, and counts in no « scheduled ».
        learner = User.objects.filter(pk=learner_id, erased_at__isnull=True, is_active=True).first()
        if learner is not None:
            created += schedule(learner, TrackPage.objects.get(pk=track_id))[1]
    return created


# --- Sending -------------------------------------------------------------------------


def _reachable(surveys: QuerySet) -> QuerySet:
    # An erased or deactivated account asked to hear nothing more from us.
    return surveys.filter(learner__erased_at__isnull=True, learner__is_active=True).exclude(
        learner__email=""
    )


def survey_url(survey: ColdSurvey) -> str:
    return settings.SITE_URL + reverse("learners:cold_survey", args=[survey.token])


def _mail(survey: ColdSurvey, *, reminder: bool) -> None:
    # A worker has no request to take the language from: mails go in the site's.
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "survey": survey,
            "learner": survey.learner,
            "track": survey.track,
            "url": survey_url(survey),
            "reminder": reminder,
        }
        send_mail(
            subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
            + render_to_string("learners/email/cold_survey_subject.txt", context).strip(),
            message=render_to_string("learners/email/cold_survey.txt", context),
            from_email=None,
            recipient_list=[survey.learner.email],
            html_message=render_to_string("learners/email/cold_survey.html", context),
        )


def _send_each(pending: QuerySet, stamp: str, now: datetime.datetime, *, reminder: bool) -> int:
    """Mail each survey of `pending` (which excludes stamped rows) and stamp `stamp` with
    `now`, one row per transaction.

    The row is locked while its mail goes and stamped only once it went: a
    failure leaves it unstamped for the next run, and a second worker skips it.
    """
    sent = 0
    for pk in list(pending.values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                # Checked again under the lock: answered, erased or sent meanwhile.
                survey = (
                    pending.select_for_update(skip_locked=True, of=("self",))
                    .select_related("learner", "track")
                    .filter(pk=pk)
                    .first()
                )
                if survey is None:
                    continue  # taken by a concurrent run, or no longer due
                if not reminder and _follow_the_training(survey) > now:
                    continue  # a place taken since: due after that session
                _mail(survey, reminder=reminder)
                ColdSurvey.objects.filter(pk=pk).update(**{stamp: now})
        except Exception:
            # One bad address or a mail server hiccup must not hold the others back.
            logger.exception("Could not mail the « à froid » survey %s", pk)
            continue
        sent += 1
    return sent


def send_due(now: datetime.datetime | None = None) -> int:
    """Mail every survey that fell due and was not sent yet; returns how many went."""
    now = now or timezone.now()
    # Answered already: a mail that went but whose stamp was lost must not go again.
    pending = _reachable(
        ColdSurvey.objects.filter(sent_at__isnull=True, answered_at__isnull=True, due_at__lte=now)
    )
    return _send_each(pending.order_by("due_at", "pk"), "sent_at", now, reminder=False)


def send_reminders(now: datetime.datetime | None = None) -> int:
    """Remind once those who got the survey two weeks ago or more and have not answered."""
    now = now or timezone.now()
    pending = _reachable(
        ColdSurvey.objects.filter(
            sent_at__lte=now - REMINDER_AFTER,
            answered_at__isnull=True,
            reminded_at__isnull=True,
        )
    )
    return _send_each(pending.order_by("sent_at", "pk"), "reminded_at", now, reminder=True)


# --- Answering -----------------------------------------------------------------------


def answer(
    survey: ColdSurvey,
    *,
    rating: int,
    usefulness: int,
    applied: bool,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> ColdSurvey:
    """Record the learner's answer once; a second answer raises SurveyAlreadyAnswered."""
    now = now or timezone.now()
    # Compare-and-swap: of two answers sent at once, only the first is kept.
    claimed = ColdSurvey.objects.filter(pk=survey.pk, answered_at__isnull=True).update(
        rating=rating,
        usefulness=usefulness,
        applied=applied,
        comment=comment.strip(),
        answered_at=now,
    )
    if not claimed:
        raise SurveyAlreadyAnswered
    survey.refresh_from_db()
    return survey
