"""Accommodation requests of learners with a disability (Qualiopi indicator 26).

The need a learner describes is health data: it is shown to the learner and to
staff in the admin, and nowhere else. Mails carry who asked and where to read
it, never the text itself.
"""

import datetime
from functools import partial
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from courses.models import TrackPage
from learners import services
from learners.models import AccommodationRequest, Enrolment, TrainingSession, User

MAX_NEED_LENGTH = 2000
# Each request mails the referent and the learner: a few an hour is plenty for
# someone following several tracks, and bounds what a script could send.
MAX_REQUESTS_PER_HOUR = 3


class RequestRefused(services.JourneyRefused):
    """A request that cannot be sent now: `str(error)` says why and what to do instead."""


class Referent(NamedTuple):
    name: str
    email: str


def referent(track: TrackPage) -> Referent:
    """Who handles the track's requests; the platform's referent fills in what it leaves blank."""
    return Referent(
        track.disability_referent or settings.DISABILITY_REFERENT_NAME,
        track.disability_contact or settings.DISABILITY_REFERENT_EMAIL,
    )


def clean_need(need: str) -> str:
    need = (need or "").strip()
    if not need:
        raise ValidationError(_("Describe the accommodation you need."), code="required")
    if len(need) > MAX_NEED_LENGTH:
        raise ValidationError(
            _("Keep it under %(limit)d characters (it has %(length)d).")
            % {"limit": MAX_NEED_LENGTH, "length": len(need)},
            code="max_length",
        )
    return need


def open_first(requests: QuerySet) -> QuerySet:
    """Requests still waiting come before the answered ones, oldest waiting first."""
    answered = Case(
        When(status=AccommodationRequest.Status.ANSWERED, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return requests.order_by(answered, "created_at", "pk")


def _enqueue_mail(request: AccommodationRequest, kind: str) -> None:
    from learners import tasks

    transaction.on_commit(partial(tasks.enqueue, tasks.send_accommodation_mail, request.pk, kind))


def _check_may_ask(learner: User, track: TrackPage) -> None:
    """Raise `RequestRefused` while a request for the track waits, or past the hourly cap.

    Rows are counted rather than a cache entry: each row is what sent two mails,
    and the count holds when the cache is down or emptied.
    """
    contact = referent(track).email
    requests = AccommodationRequest.objects.filter(learner=learner)
    if requests.open().filter(track=track).exists():
        raise RequestRefused(
            _(
                "Your request for this track is still waiting for an answer. You can send "
                "another once it is answered; to add to it meanwhile, write to %(email)s."
            )
            % {"email": contact}
        )
    since = timezone.now() - datetime.timedelta(hours=1)
    if requests.filter(created_at__gte=since).count() >= MAX_REQUESTS_PER_HOUR:
        raise RequestRefused(
            _(
                "You have sent %(count)d requests within the hour. Send this one later, "
                "or write to %(email)s."
            )
            % {"count": MAX_REQUESTS_PER_HOUR, "email": contact}
        )


def request_accommodation(
    learner: User, track: TrackPage, need: str, session: TrainingSession | None = None
) -> AccommodationRequest:
    """Record the learner's request, tell the referent and confirm to the learner.

    Raises `ValidationError` when the need is empty or too long, `RequestRefused`
    while another request for the track waits or past the hourly cap.
    """
    need = clean_need(need)
    if session is not None and session.track_id != track.pk:
        raise ValueError("The session belongs to another track.")
    with transaction.atomic():
        # The learner's row serialises their requests: two tabs cannot both pass the checks.
        User.objects.select_for_update().filter(pk=learner.pk).first()
        _check_may_ask(learner, track)
        request = AccommodationRequest.objects.create(
            learner=learner, track=track, session=session, need=need
        )
        _enqueue_mail(request, MAIL_REFERENT)
        _enqueue_mail(request, MAIL_CONFIRMATION)
    return request


def enrol_with_request(
    learner: User, track: TrackPage, need: str
) -> tuple[Enrolment, bool, AccommodationRequest | None, bool]:
    """Enrol, and record the accommodation request when a need is given; the last
    value says the same form was sent again (a double click): nothing new was made.

    Both or neither: an invalid need refuses the enrolment too, so that the
    learner fixes it on the form rather than finding half of it done.
    """
    if not (need or "").strip():
        return *services.enrol(learner, track), None, False
    need = clean_need(need)
    with transaction.atomic():
        enrolment, created = services.enrol(learner, track)
        if not created:
            # The second sending finds the first's enrolment and request, and is
            # answered as the first was, not refused as « a request is waiting ».
            User.objects.select_for_update().filter(pk=learner.pk).first()
            sent = AccommodationRequest.objects.open().filter(
                learner=learner, track=track, need=need
            )
            if (repeat := sent.first()) is not None:
                return enrolment, False, repeat, True
        return enrolment, created, request_accommodation(learner, track, need), False


def record_answer(
    request: AccommodationRequest,
    *,
    status: str,
    answer: str,
    by: User,
    extra_time_percent: int = 0,
    note_for_trainers: str = "",
    note_agreed: bool = False,
) -> AccommodationRequest:
    """Staff record where a request stands, the extra time it grants on timed quizzes
    and what the session's trainers are told; the learner is mailed each new answer."""
    answer = (answer or "").strip()
    if status == AccommodationRequest.Status.ANSWERED and not answer:
        raise ValidationError(
            {"answer": _("Write the answer the learner will receive.")}, code="required"
        )
    previous = (
        AccommodationRequest.objects.filter(pk=request.pk)
        .values("status", "answer", "extra_time_percent", "note_for_trainers", "note_agreed")
        .get()
    )
    note_for_trainers = (note_for_trainers or "").strip()
    # The learner is told what her trainers will read, as she is told the answer.
    newly_answered = status == AccommodationRequest.Status.ANSWERED and (
        previous["status"] != status
        or previous["answer"] != answer
        or previous["extra_time_percent"] != extra_time_percent
        or previous["note_for_trainers"] != note_for_trainers
        or previous["note_agreed"] != note_agreed
    )
    request.status, request.answer, request.handled_by = status, answer, by
    request.extra_time_percent = extra_time_percent
    request.note_for_trainers = note_for_trainers
    request.note_agreed = bool(note_for_trainers) and note_agreed
    if newly_answered:
        request.answered_at = timezone.now()
    elif status != AccommodationRequest.Status.ANSWERED:
        request.answered_at = None
    with transaction.atomic():
        request.save(
            update_fields=[
                "status",
                "answer",
                "extra_time_percent",
                "note_for_trainers",
                "note_agreed",
                "handled_by",
                "answered_at",
            ]
        )
        if newly_answered:
            _enqueue_mail(request, MAIL_ANSWER)
    return request


# --- Mails -----------------------------------------------------------------------------

MAIL_REFERENT = "referent"
MAIL_CONFIRMATION = "confirmation"
MAIL_ANSWER = "answer"


def _absolute(path: str) -> str:
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def send(request_pk: int, kind: str) -> bool:
    """Send one of the request's mails; False when there is nobody to write to."""
    request = AccommodationRequest.objects.select_related("learner", "track").get(pk=request_pk)
    learner = request.learner
    context = {
        "request": request,
        "learner": learner,
        "track": request.track,
        "referent": referent(request.track),
        "page_url": _absolute(reverse("learners:accommodation", args=[request.track_id])),
        "admin_url": _absolute(reverse("learners_accommodation:edit", args=[request.pk])),
    }
    if kind == MAIL_REFERENT:
        recipient = context["referent"].email
    elif learner.erased_at is None:
        recipient = learner.email
    else:
        return False  # erased since: the address no longer exists
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            render_to_string(f"learners/email/accommodation_{kind}_subject.txt", context).strip(),
            render_to_string(f"learners/email/accommodation_{kind}.txt", context),
            None,
            [recipient],
        )
    return True
