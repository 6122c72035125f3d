"""Training sessions: seats taken in request order, the waiting list, half-days, mails.

A session's row is the lock: every operation that counts confirmed seats
(taking one, cancelling one, raising the capacity) first locks it with
`select_for_update`, so two people can never both take the last place.
"""

import datetime
import logging
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from courses.models.pages import Format
from learners import accommodations, activity, cold_surveys, services
from learners.attendance import still_open_if_ending_from
from learners.models import User
from learners.session_models import HOURS_FIELDS, Attendance, HalfDay, Seat, TrainingSession

logger = logging.getLogger(__name__)

# Reminders go to sessions starting today, tomorrow or the day after.
REMINDER_DAYS_AHEAD = 2


class SeatRefused(services.JourneyRefused):
    """A seat cannot be taken or cancelled: `str(error)` says why."""


class Notice:
    CONFIRMED = "confirmed"
    WAITING = "waiting"
    PROMOTED = "promoted"
    CANCELLED = "cancelled"
    REMINDER = "reminder"
    CHANGED = "changed"
    CLOSED = "closed"


NOTICE_SUBJECTS = {
    Notice.CONFIRMED: gettext_lazy("Your place is confirmed: %(session)s"),
    Notice.WAITING: gettext_lazy("You are on the waiting list: %(session)s"),
    Notice.PROMOTED: gettext_lazy("A place freed up for you: %(session)s"),
    Notice.CANCELLED: gettext_lazy("Your place is cancelled: %(session)s"),
    Notice.REMINDER: gettext_lazy("Reminder: your session starts soon: %(session)s"),
    Notice.CHANGED: gettext_lazy("Your session has changed: %(session)s"),
    Notice.CLOSED: gettext_lazy("No place freed up for you: %(session)s"),
}
# The notices of a confirmed place: only they carry the online meeting link, which
# is for those who have a place, not for the waiting list.
PLACE_NOTICES = {Notice.CONFIRMED, Notice.PROMOTED, Notice.REMINDER}


def notice_still_true(seat: Seat, notice: str) -> bool:
    """Whether the seat is still what the notice says: one queued before a later change
    (a place taken then cancelled, a wait ended by a promotion) is left unsent, as the
    change queued its own."""
    if notice == Notice.REMINDER:
        # Retried for hours, or resent by staff: « starts soon » goes no later than its first day.
        today = timezone.localdate()
        return seat.status == Seat.Status.CONFIRMED and seat.session.starts_on >= today
    if notice in PLACE_NOTICES:
        return seat.status == Seat.Status.CONFIRMED
    if notice == Notice.WAITING:
        return seat.status == Seat.Status.WAITING
    if notice == Notice.CHANGED:
        return seat.status != Seat.Status.CANCELLED
    return seat.status == Seat.Status.CANCELLED


# --- Reads -----------------------------------------------------------------------


def with_places(sessions: QuerySet) -> QuerySet:
    """Annotate `confirmed_count` (places taken) in the same query."""
    return sessions.annotate(
        confirmed_count=Count("seats", filter=Q(seats__status=Seat.Status.CONFIRMED))
    )


def with_rank(seats: QuerySet) -> QuerySet:
    """Annotate `rank`: a waiting seat's place in its queue, 1 for the next one promoted."""
    ahead = (
        Seat.objects.promotable()
        .filter(session=OuterRef("session"))
        .filter(
            Q(requested_at__lt=OuterRef("requested_at"))
            | Q(requested_at=OuterRef("requested_at"), pk__lt=OuterRef("pk"))
        )
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return seats.annotate(rank=Coalesce(Subquery(ahead, output_field=IntegerField()), Value(0)) + 1)


def waiting_rank(seat: Seat) -> int | None:
    if seat.status != Seat.Status.WAITING:
        return None
    return with_rank(Seat.objects.filter(pk=seat.pk)).values_list("rank", flat=True).get()


def learner_seats(learner: User, today: datetime.date | None = None) -> QuerySet:
    """The learner's active seats in sessions not over yet, with their waiting rank, and
    her places in sessions over whose attendance is still open: their documents wait
    for it (certification's `issue_after_attendance_closes`), and she is told when."""
    today = today or timezone.localdate()
    return with_rank(
        Seat.objects.active()
        .filter(learner=learner)
        .filter(
            Q(session__ends_on__gte=today)
            | Q(
                status=Seat.Status.CONFIRMED,
                session__ends_on__gte=still_open_if_ending_from(today),
            )
        )
        .select_related("session", "session__track")
        .order_by("session__starts_on", "session__pk")
    )


# --- Seats -----------------------------------------------------------------------


def _lock(session: TrainingSession) -> TrainingSession:
    return TrainingSession.objects.select_for_update().select_related("track").get(pk=session.pk)


def is_learner(user: User) -> bool:
    """Who may hold a place: not trainers nor the team, whose activity is not kept as a
    learner's (activity.tracked) nor certified, and who would vouch for themselves."""
    return not user.is_staff and user.role != User.Role.TRAINER


def take_seat(learner: User, session: TrainingSession) -> Seat:
    """Give `learner` a place in `session`, or one on its waiting list when it is full.

    Enrols the learner in the session's track if they are not already. Raises
    `SeatRefused` (a second active seat, a session over, a trainer or the team) or the
    refusals of `services.enrol` (prerequisites missing).
    """
    if not is_learner(learner):
        raise SeatRefused(
            _("Places in sessions are for learners: trainers and the team do not take one.")
        )
    if session.ends_on < timezone.localdate():
        raise SeatRefused(_("This session is over."))
    if session.has_started:
        raise SeatRefused(_started_message())
    try:
        with transaction.atomic():
            locked = _lock(session)
            if Seat.objects.active().filter(session=locked, learner=learner).exists():
                raise SeatRefused(_("You already have a place or are on the waiting list."))
            services.enrol(learner, locked.track)
            free = locked.seats.confirmed().count() < locked.capacity
            now = timezone.now()
            seat = Seat.objects.create(
                session=locked,
                learner=learner,
                status=Seat.Status.CONFIRMED if free else Seat.Status.WAITING,
                requested_at=now,
                confirmed_at=now if free else None,
            )
            _notify_on_commit(seat, Notice.CONFIRMED if free else Notice.WAITING)
    except IntegrityError:
        # Without row locks (SQLite) the partial unique constraint still decides.
        raise SeatRefused(_("You already have a place or are on the waiting list.")) from None
    return seat


class PlaceConfirmedSince(SeatRefused):
    """Leaving the waiting list was asked, and the seat has been given a place since."""


def cancel_seat(seat: Seat, *, shown: str | None = None) -> Seat | None:
    """Cancel `seat`, keeping its row; returns the waiting seat promoted in its place, if any.

    `shown`: the seat's status on the page the learner clicked on. Raises
    `PlaceConfirmedSince` when that page showed a wait and the seat holds a place
    by now (read under the lock, so a promotion at the same moment cannot slip in),
    `SeatRefused` when the seat is already cancelled or the session is over.
    """
    with transaction.atomic():
        locked = _lock(seat.session)
        seat = Seat.objects.select_for_update().get(pk=seat.pk)
        if shown == Seat.Status.WAITING and seat.status == Seat.Status.CONFIRMED:
            raise PlaceConfirmedSince(
                _(
                    "A place in %(session)s came free for you since this page was shown: it "
                    "is confirmed and kept. If you will not come, cancel it below."
                )
                % {"session": locked}
            )
        if seat.status == Seat.Status.CANCELLED:
            raise SeatRefused(_("This place was already cancelled."))
        if locked.ends_on < timezone.localdate():
            raise SeatRefused(_("This session is over."))
        if seat.status == Seat.Status.CONFIRMED and locked.has_started:
            # Its signed half-days are attendance evidence, and a place freed now would
            # go to someone who missed the start: the training team decides.
            raise SeatRefused(_started_message())
        return _cancel(locked, seat)


def _cancel(locked: TrainingSession, seat: Seat) -> Seat | None:
    """Cancel the locked `seat` and tell its learner; returns the seat promoted in its
    place, if any (none once the session has started: `_fill`)."""
    was_confirmed = seat.status == Seat.Status.CONFIRMED
    seat.status = Seat.Status.CANCELLED
    seat.cancelled_at = timezone.now()
    seat.save(update_fields=["status", "cancelled_at"])
    _notify_on_commit(seat, Notice.CANCELLED)
    if was_confirmed:
        # Her « à froid » survey was about this session: it follows her other places.
        transaction.on_commit(
            partial(cold_surveys.follow_places, seat.learner_id, locked.track_id), robust=True
        )
    promoted = _fill(locked) if was_confirmed else []
    return promoted[0] if promoted else None


def fill_from_waiting_list(session: TrainingSession) -> list[Seat]:
    """Promote waiting seats, first come first served, while places are free.

    Call it after the capacity rose. A lowered capacity never bumps anyone:
    confirmed seats stay, and the waiting list waits for places to free up.
    """
    with transaction.atomic():
        return _fill(_lock(session))


# --- The training team's seat tools (learners/seat_admin.py) ----------------------


def give_place(learner: User, session: TrainingSession) -> Seat:
    """Staff give `learner` a confirmed place, also once the session has started.

    Learners stop taking places themselves on the first day (`take_seat`): someone
    who joins late writes to the training team, which gives the place here. Someone
    on the waiting list is promoted; nobody is put on it. Raises `SeatRefused` when
    the session is over or full (its capacity is the team's to raise first), the
    person already holds a place, or their account is closed; and the refusals of
    `services.enrol`.
    """
    if not learner.is_active or learner.erased_at is not None:
        raise SeatRefused(
            _("The account of %(name)s is closed: no place can be given to it.")
            % {"name": learner.display_name}
        )
    if not is_learner(learner):
        raise SeatRefused(
            _("%(name)s is a trainer or a member of the team, not a learner: no place is given.")
            % {"name": learner.display_name}
        )
    if session.ends_on < timezone.localdate():
        raise SeatRefused(_("This session is over."))
    with transaction.atomic():
        locked = _lock(session)
        active = Seat.objects.active().filter(session=locked, learner=learner)
        seat = active.select_for_update().first()
        if seat is not None and seat.status == Seat.Status.CONFIRMED:
            raise SeatRefused(
                _("%(name)s already holds a place in this session.")
                % {"name": learner.display_name}
            )
        if locked.seats.confirmed().count() >= locked.capacity:
            raise SeatRefused(
                _("This session is full: raise its capacity first, then give the place.")
            )
        services.enrol(learner, locked.track)
        now = timezone.now()
        if seat is None:
            try:
                # Without row locks (SQLite) the partial unique constraint still decides.
                with transaction.atomic():
                    seat = Seat.objects.create(
                        session=locked,
                        learner=learner,
                        status=Seat.Status.CONFIRMED,
                        requested_at=now,
                        confirmed_at=now,
                    )
            except IntegrityError:
                raise SeatRefused(
                    _("%(name)s already holds a place in this session.")
                    % {"name": learner.display_name}
                ) from None
            _notify_on_commit(seat, Notice.CONFIRMED)
        else:
            seat.status = Seat.Status.CONFIRMED
            seat.confirmed_at = now
            seat.save(update_fields=["status", "confirmed_at"])
            _notify_on_commit(seat, Notice.PROMOTED)
    return seat


def promote_waiting(seat: Seat) -> Seat:
    """Staff give the place a waiting seat waits for (`give_place`), unless it waits no
    more: the learner left the list, or it was closed, since the page was shown."""
    with transaction.atomic():
        locked = _lock(seat.session)
        seat = Seat.objects.select_for_update().select_related("learner").get(pk=seat.pk)
        if seat.status != Seat.Status.WAITING:
            raise SeatRefused(
                _("%(name)s no longer waits for a place in this session.")
                % {"name": seat.learner.display_name}
            )
        return give_place(seat.learner, locked)


def withdraw_place(seat: Seat) -> Seat | None:
    """Staff cancel a seat, also once the session has started (someone who never came).

    A seat with a signed half-day stays: the signature is attendance evidence, and the
    sheet lists those who hold a place. Before the start, the place freed goes to the
    waiting list as when the learner cancels; returns the seat promoted, if any.
    """
    with transaction.atomic():
        locked = _lock(seat.session)
        seat = Seat.objects.select_for_update().select_related("learner").get(pk=seat.pk)
        if seat.status == Seat.Status.CANCELLED:
            raise SeatRefused(_("This place was already cancelled."))
        if locked.ends_on < timezone.localdate():
            raise SeatRefused(_("This session is over."))
        signed = Attendance.objects.filter(
            half_day__session=locked, learner=seat.learner, status=Attendance.Status.PRESENT
        )
        # Online activity during an online session earns the certificat de réalisation
        # as a signature does (activity.attending_ids): it is evidence too.
        if signed.exists() or activity.attending_ids(locked, [seat.learner_id]):
            raise SeatRefused(
                _(
                    "%(name)s already attended this session (a signed half-day, or online "
                    "activity during its dates): the place stays, since that is training "
                    "evidence. Record the half-days missed as absences instead."
                )
                % {"name": seat.learner.display_name}
            )
        return _cancel(locked, seat)


def _started_message() -> str:
    return _(
        "This session has started: to join it or leave it, write to the training team (%(email)s)."
    ) % {"email": settings.CAMPUS_CONTACT_EMAIL}


def _fill(locked: TrainingSession) -> list[Seat]:
    # Nobody is promoted into a session under way: the half-days they missed would
    # stand on their attendance sheet, and no reminder would reach them in time.
    if locked.has_started:
        return []
    free = locked.capacity - locked.seats.confirmed().count()
    if free <= 0:
        return []
    # Only the seats' rows: the join to the accounts must not lock them too.
    promoted = list(
        Seat.objects.promotable().filter(session=locked).select_for_update(of=("self",))[:free]
    )
    now = timezone.now()
    for seat in promoted:
        seat.status = Seat.Status.CONFIRMED
        seat.confirmed_at = now
        seat.save(update_fields=["status", "confirmed_at"])
        _notify_on_commit(seat, Notice.PROMOTED)
    return promoted


# --- Half-days -------------------------------------------------------------------


@transaction.atomic
def plan_half_days(session: TrainingSession) -> int:
    """Create the half-days of each training day, at the session's hours; returns how
    many it created.

    Safe to run after every save: existing half-days keep their sign-in codes, take
    new hours unless someone already signed them (the session's form refuses that),
    and those left outside new dates or periods go, unless someone already signed them.
    Once the session has started its form keeps its hours (`_started_hours_errors`), and
    a change of format applies to the half-days still to come.
    """
    online = session.format == Format.ONLINE
    planned = session.planned_hours()
    wanted = {
        (day, period): hours for day in session.training_days() for period, hours in planned.items()
    }
    existing = {(h.date, h.period): h for h in HalfDay.objects.filter(session=session)}
    stale = [h.pk for key, h in existing.items() if key not in wanted]
    if stale:
        HalfDay.objects.filter(pk__in=stale, attendances__isnull=True).delete()
    for period, (start, end) in planned.items():
        HalfDay.objects.filter(session=session, period=period, attendances__isnull=True).exclude(
            starts_at=start, ends_at=end
        ).update(starts_at=start, ends_at=end)
    # A half-day begun keeps its mode: its signatures were given, and counted, under it
    # (a personal link counts at once online, on site once the trainer confirms).
    now = timezone.localtime()
    to_come = Q(date__gt=now.date()) | Q(date=now.date(), starts_at__gt=now.time())
    HalfDay.objects.filter(to_come, session=session, attendances__isnull=True).exclude(
        online=online
    ).update(online=online)
    missing = [
        HalfDay(
            session=session, date=date, period=period, starts_at=start, ends_at=end, online=online
        )
        for (date, period), (start, end) in wanted.items()
        if (date, period) not in existing
    ]
    HalfDay.objects.bulk_create(missing)
    return len(missing)


# What the seat notices tell of a session: a change to any of them is news to its people.
DETAILS_TOLD = (
    "starts_on",
    "ends_on",
    "days_off",
    "extra_days",
    "format",
    "place_name",
    "place_address",
    "online_link",
)


def details_told(session_pk: int | None) -> dict | None:
    """The session's details as stored (the seat notices' content), None if unsaved."""
    if session_pk is None:
        return None
    told = TrainingSession.objects.filter(pk=session_pk).values(*DETAILS_TOLD, *HOURS_FIELDS)
    details = told.first()
    if details is None:
        return None
    # The half-days and hours the session trains, not the fields: the afternoon's hours
    # of a session of mornings are no news to anyone.
    hours = {name: details.pop(name) for name in HOURS_FIELDS}
    details["hours"] = TrainingSession(**hours).planned_hours()
    return details


def session_saved(session: TrainingSession, before: dict | None = None) -> None:
    """What follows staff saving a session: its half-days, places for the waiting list,
    and, when what its people were told changed (`before`, as `details_told` read it
    before the save), a notice to each of them; a new start date is reminded again."""
    plan_half_days(session)
    promoted = fill_from_waiting_list(session)
    after = details_told(session.pk)
    if before is None or after == before or session.ends_on < timezone.localdate():
        return
    seats = Seat.objects.active().filter(session=session)
    if after["starts_on"] != before["starts_on"]:
        seats.update(reminder_sent_at=None)
    # A place given by this very save: its notice tells the session as it is now.
    for seat in seats.exclude(pk__in=[seat.pk for seat in promoted]):
        _notify_on_commit(seat, Notice.CHANGED)


# --- Mails -----------------------------------------------------------------------


def _notify_on_commit(seat: Seat, notice: str) -> None:
    transaction.on_commit(partial(_queue_notice, seat.pk, notice))


def _queue_notice(seat_pk: int, notice: str) -> None:
    from learners import tasks

    tasks.enqueue(tasks.notify_seat, seat_pk, notice)


def _absolute(path: str) -> str:
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def attendance_link(seat: Seat) -> str:
    """The learner's personal sign-in link, once the attendance views exist."""
    try:
        return _absolute(reverse("learners:attendance_link", args=[seat.attendance_token]))
    except NoReverseMatch:
        return ""


def send_seat_notice(seat: Seat, notice: str) -> None:
    """Mail the learner what happened to their seat (plain text and HTML)."""
    session = seat.session
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "notice": notice,
            "seat": seat,
            "session": session,
            "learner": seat.learner,
            "rank": waiting_rank(seat) if notice == Notice.WAITING else None,
            "trainers": [t.display_name for t in session.trainers.all()],
            "track_url": _absolute(session.track.url or ""),
            "dashboard_url": _absolute(reverse("learners:dashboard")),
            # Someone given a place once the session started gets no reminder: the
            # link comes with the place.
            "sign_in_url": attendance_link(seat)
            if notice == Notice.REMINDER or (notice in PLACE_NOTICES and session.has_started)
            else "",
            "online_link": session.online_link
            if notice in PLACE_NOTICES | {Notice.CHANGED} and seat.status == Seat.Status.CONFIRMED
            else "",
            # When to come, not only which day: the first day's half-days.
            "first_day": list(session.half_days.filter(date=session.starts_on)),
            "referent": accommodations.referent(session.track),
        }
        send_mail(
            settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
            + str(NOTICE_SUBJECTS[notice] % {"session": session}),
            render_to_string("learners/email/session_notice.txt", context),
            None,
            [seat.learner.email],
            html_message=render_to_string("learners/email/session_notice.html", context),
        )


def seats_to_remind(now: datetime.datetime | None = None) -> QuerySet:
    today = timezone.localdate(now)
    return Seat.objects.confirmed().filter(
        # A deactivated account keeps its seats (staff may reactivate it), but its
        # personal sign-in link must not be mailed to it meanwhile.
        learner__is_active=True,
        learner__erased_at__isnull=True,
        reminder_sent_at__isnull=True,
        session__starts_on__gte=today,
        session__starts_on__lte=today + datetime.timedelta(days=REMINDER_DAYS_AHEAD),
    )


def close_waiting_lists(now: datetime.datetime | None = None) -> int:
    """End the wait of those still waiting for a session that started, and tell them.

    Nobody is promoted into a session under way (`_fill`): without this, they read
    « n° N sur la liste d'attente » until the session ended. From its second day, so
    that a place freed on the first morning still goes to them. Returns how many.
    """
    today = timezone.localdate(now)
    waiting = Seat.objects.waiting().filter(session__starts_on__lt=today)
    closed = 0
    for pk in list(waiting.values_list("pk", flat=True)):
        with transaction.atomic():
            ended = Seat.objects.filter(pk=pk, status=Seat.Status.WAITING).update(
                status=Seat.Status.CANCELLED, cancelled_at=timezone.now()
            )
            if ended:
                _notify_on_commit(Seat(pk=pk), Notice.CLOSED)
                closed += ended
    return closed


def send_reminders(now: datetime.datetime | None = None) -> int:
    """Remind confirmed learners of sessions starting soon, once per seat; returns how
    many reminders were queued.

    Each seat is claimed (and the claim committed) before its mail is queued: a crash
    after queueing never queues it twice. The mail then goes as every seat notice
    does (`tasks.notify_seat`): retried for hours if the mail server fails, then
    listed for staff as undelivered and sent again by the beat.
    """
    now = now or timezone.now()
    queued = 0
    for pk in list(seats_to_remind(now).order_by("pk").values_list("pk", flat=True)):
        with transaction.atomic():
            if not seats_to_remind(now).filter(pk=pk).update(reminder_sent_at=timezone.now()):
                continue  # another worker took it
            transaction.on_commit(partial(_queue_notice, pk, Notice.REMINDER))
        queued += 1
    return queued
