"""Attendance (émargement) per half-day: learners sign, trainers confirm or mark absent.

A learner signs with the short code the trainer projects (valid only while the
half-day runs) or with the personal link of their seat. The trainer has the
last word: they confirm signatures and record absences. A confirmed seat with
no signature once the half-day is over stays « not signed » until the trainer
decides, so the sheet never claims an absence nobody recorded.
"""

import datetime
import logging
import math
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learners.models import User
from learners.quality_models import AccommodationRequest
from learners.session_models import Attendance, HalfDay, Seat, TrainingSession

logger = logging.getLogger(__name__)

# Codes are six characters out of 32: a few thousand guesses would find one.
# Ten wrong codes per quarter of an hour is plenty for typos, and nothing for a guesser.
MAX_WRONG_CODES = 10
WRONG_CODES_WINDOW_SECONDS = 15 * 60


class AttendanceRefused(Exception):
    """A refusal the person can act upon: `str(error)` is the message to show them."""


class TooManyWrongCodes(AttendanceRefused):
    def __init__(self):
        super().__init__(
            _("Too many wrong codes. Wait a quarter of an hour or ask your trainer to sign you in.")
        )


def normalise_code(code: str) -> str:
    # Read off a projected screen and typed on a phone: « ab3 k7q » is « AB3K7Q ».
    return "".join(code.split()).upper()


# Being staff is not enough to see and record every session's attendance: the
# operating team grants this permission to those who run the sessions.
RECORD_EVERY_SESSION = "learners.change_attendance"


def records_every_session(user: User) -> bool:
    """Staff granted the attendance permission (superusers have it) see every session."""
    return user.is_active and user.is_staff and user.has_perm(RECORD_EVERY_SESSION)


def sessions_run_by(user: User):
    """The sessions whose attendance `user` may see and record: theirs, or all for
    staff with the attendance permission."""
    sessions = TrainingSession.objects.select_related("track")
    if records_every_session(user):
        return sessions
    if user.role != User.Role.TRAINER:
        return sessions.none()
    return sessions.for_trainer(user)


# --- Throttling code guesses -------------------------------------------------------------


def _wrong_codes_key(learner: User) -> str:
    return f"attendance-wrong-codes:{learner.pk}"


def _wrong_codes(learner: User) -> int:
    try:
        return cache.get(_wrong_codes_key(learner), 0)
    except Exception:
        # A cache outage must not stop a room of learners from signing.
        logger.warning("Attendance code throttling skipped: cache unavailable.", exc_info=True)
        return 0


def _count_wrong_code(learner: User) -> None:
    key = _wrong_codes_key(learner)
    try:
        # add() then incr() is atomic in Redis and under the local-memory lock. The
        # window starts at the first wrong code and is not extended by later ones.
        cache.add(key, 0, timeout=WRONG_CODES_WINDOW_SECONDS)
        cache.incr(key)
    except Exception:
        logger.warning("Attendance code throttling skipped: cache unavailable.", exc_info=True)


# --- Signing -----------------------------------------------------------------------------


def _local_time(moment: datetime.datetime) -> str:
    return time_format(timezone.localtime(moment), "H:i")


def _check_open(half_day: HalfDay, at: datetime.datetime) -> None:
    opens, closes = half_day.window()
    if at < opens:
        raise AttendanceRefused(
            _("Signing for this half-day opens at %(time)s.") % {"time": _local_time(opens)}
        )
    if at > closes:
        raise AttendanceRefused(
            _("This code expired at %(time)s, at the end of the half-day. Ask your trainer.")
            % {"time": _local_time(closes)}
        )


def _sign(half_day: HalfDay, learner: User, method: str, at: datetime.datetime) -> Attendance:
    # The unique constraint (half-day, learner) makes a double tap or two
    # devices at once record one signature; the first one stands.
    with transaction.atomic():
        # Under the seat's lock: staff cancelling the place at the same moment
        # (sessions.withdraw_place) either sees this signature or is seen by it.
        seat = Seat.objects.select_for_update().filter(
            session_id=half_day.session_id, learner=learner, status=Seat.Status.CONFIRMED
        )
        if not seat.exists():
            raise AttendanceRefused(_("You no longer hold a place in this session."))
        return Attendance.objects.get_or_create(
            half_day=half_day,
            learner=learner,
            defaults={"status": Attendance.Status.PRESENT, "method": method, "signed_at": at},
        )[0]


def sign_in_with_code(learner: User, code: str, at: datetime.datetime | None = None) -> Attendance:
    """Sign `learner` in for the half-day whose code the trainer shows.

    Raises `AttendanceRefused` (unknown code, code of a session without the
    learner's confirmed seat, half-day not yet open or over, too many wrong
    codes). Signing again returns the attendance already recorded, whatever
    the trainer decided since; only a personal link's signature awaiting the
    trainer becomes a code's.
    """
    at = at or timezone.now()
    if _wrong_codes(learner) >= MAX_WRONG_CODES:
        raise TooManyWrongCodes()
    half_day = HalfDay.objects.filter(code=normalise_code(code)).first()
    # A code of another session counts as a wrong guess too, and says no more
    # than an unknown one: its existence is none of this learner's business.
    if half_day is None or not _has_confirmed_seat(learner, half_day.session_id):
        _count_wrong_code(learner)
        raise AttendanceRefused(
            _("This code does not match any half-day of your sessions. Check it and try again.")
        )
    _check_open(half_day, at)
    attendance = _sign(half_day, learner, Attendance.Method.CODE, at)
    if attendance.awaits_confirmation:
        # She tapped the mailed link, then typed the code shown in the room: that proves
        # she is there, which the link could not. Nothing else a row holds is replaced.
        Attendance.objects.filter(
            pk=attendance.pk, method=Attendance.Method.LINK, confirmed_at__isnull=True
        ).update(method=Attendance.Method.CODE, signed_at=at)
        attendance.refresh_from_db()
    return attendance


def _has_confirmed_seat(learner: User, session_id: int) -> bool:
    return Seat.objects.confirmed().filter(session_id=session_id, learner=learner).exists()


def seat_for_token(token: str) -> Seat:
    """The confirmed seat a personal link signs for; `Seat.DoesNotExist` otherwise."""
    # The link signs without a login: it must die with the account it signs for,
    # whatever an erasure or a deactivation left behind.
    return (
        Seat.objects.confirmed()
        .filter(learner__is_active=True, learner__erased_at__isnull=True)
        .select_related("learner", "session__track")
        .get(attendance_token=token)
    )


def open_half_day(session: TrainingSession, at: datetime.datetime | None = None) -> HalfDay | None:
    """The half-day of `session` open at `at`, if any."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    return next((h for h in session.half_days.filter(date=today) if h.is_open(at)), None)


# A code counts at once, without a trainer's confirmation, because it is shown in the
# room during its half-day. The projected page shows it this long before the half-day
# opens, to be put up before the room fills, and not the evening before, when someone
# could note it and sign the next morning from home.
CODE_SHOWN_BEFORE = datetime.timedelta(minutes=30)


def current_or_next_half_day(
    session: TrainingSession, at: datetime.datetime | None = None
) -> HalfDay | None:
    """The half-day open at `at`, else the next one to open, whose code a trainer projects
    once `code_shown`."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    for half_day in session.half_days.filter(date__gte=today):
        if half_day.window()[1] >= at:
            return half_day
    return None


def code_shown_from(half_day: HalfDay) -> datetime.datetime:
    return half_day.window()[0] - CODE_SHOWN_BEFORE


def code_shown(half_day: HalfDay, at: datetime.datetime | None = None) -> bool:
    return (at or timezone.now()) >= code_shown_from(half_day)


def seconds_until_the_code_changes(
    half_day: HalfDay | None, at: datetime.datetime | None = None
) -> int | None:
    """How long the projection stays as shown: until the next half-day's code may be
    shown, until its half-day opens, or, open, until it closes and the next one takes
    its place. None: nothing left to sign. One second past the moment, as a window
    includes its last second."""
    if half_day is None:
        return None
    at = at or timezone.now()
    opens, closes = half_day.window()
    shown_from = code_shown_from(half_day)
    change = shown_from if at < shown_from else opens if at < opens else closes
    return max(1, math.ceil((change - at).total_seconds()) + 1)


def sign_in_with_link(token: str, at: datetime.datetime | None = None) -> Attendance:
    """Sign the seat's learner in for the half-day of its session open at `at`.

    Raises `Seat.DoesNotExist` for an unknown token (or a seat no longer
    confirmed) and `AttendanceRefused` when no half-day is open.
    """
    at = at or timezone.now()
    seat = seat_for_token(token)
    half_day = open_half_day(seat.session, at)
    if half_day is None:
        raise AttendanceRefused(
            _("No half-day of this session is open for signing right now. Ask your trainer.")
        )
    return _sign(half_day, seat.learner, Attendance.Method.LINK, at)


# --- The trainer's decisions -------------------------------------------------------------

# A sheet handed to a funder, and the certificates issued from it, must keep saying
# what they said: trainers amend a session's attendance until this long after its last
# day; then only the team granted the attendance permission does.
AMEND_DAYS = 14


def closes_on(session: TrainingSession) -> datetime.date:
    """The last day the session's trainers may record or change its attendance."""
    return session.ends_on + datetime.timedelta(days=AMEND_DAYS)


def still_open_if_ending_from(today: datetime.date | None = None) -> datetime.date:
    """Sessions ending on this day or later still have their attendance open to their
    trainers (`closes_on` is today or later): what it says may still change."""
    return (today or timezone.localdate()) - datetime.timedelta(days=AMEND_DAYS)


def closed_for(user: User, session: TrainingSession, at: datetime.datetime | None = None) -> bool:
    if records_every_session(user):
        return False
    return timezone.localdate(at or timezone.now()) > closes_on(session)


def _refuse_if_closed(user: User, session: TrainingSession, at: datetime.datetime) -> None:
    if closed_for(user, session, at):
        raise AttendanceRefused(
            _(
                "The attendance of this session could be amended until %(date)s: ask the "
                "training team to amend it."
            )
            % {"date": date_format(closes_on(session), "SHORT_DATE_FORMAT")}
        )


def record_by_trainer(
    half_day: HalfDay,
    learner: User,
    status: str,
    trainer: User,
    at: datetime.datetime | None = None,
) -> Attendance:
    """Confirm a learner's presence or record their absence for `half_day`.

    A signature already there keeps its time and method: the sheet shows both
    what the learner did and what the trainer decided.
    """
    at = at or timezone.now()
    if status not in Attendance.Status.values:
        raise ValueError(f"Unknown attendance status {status!r}.")
    if learner.pk == trainer.pk:
        raise AttendanceRefused(_("Nobody records their own attendance."))
    if not _has_confirmed_seat(learner, half_day.session_id):
        raise AttendanceRefused(_("This person has no confirmed seat in the session."))
    if at < half_day.window()[0]:
        raise AttendanceRefused(_("Attendance can be recorded once the half-day has started."))
    _refuse_if_closed(trainer, half_day.session, at)
    with transaction.atomic():
        attendance, created = Attendance.objects.select_for_update().get_or_create(
            half_day=half_day,
            learner=learner,
            defaults={
                "status": status,
                "method": Attendance.Method.TRAINER,
                "confirmed_by": trainer,
                "confirmed_at": at,
            },
        )
        if not created:
            attendance.status = status
            attendance.confirmed_by = trainer
            attendance.confirmed_at = at
            attendance.save(update_fields=["status", "confirmed_by", "confirmed_at"])
    return attendance


def confirm_all_signed(
    half_day: HalfDay, trainer: User, at: datetime.datetime | None = None
) -> int:
    """Confirm every signature of `half_day` not confirmed yet; how many were confirmed."""
    _refuse_if_closed(trainer, half_day.session, at or timezone.now())
    return (
        Attendance.objects.filter(
            half_day=half_day,
            status=Attendance.Status.PRESENT,
            confirmed_by__isnull=True,
            learner__seats__session_id=half_day.session_id,
            learner__seats__status=Seat.Status.CONFIRMED,
        )
        .exclude(learner=trainer)  # nobody vouches for themselves
        .update(confirmed_by=trainer, confirmed_at=at or timezone.now())
    )


# --- The sheet: learners × half-days ------------------------------------------------------


class CellState:
    PRESENT = "present"
    ABSENT = "absent"
    UNSIGNED = "unsigned"  # the half-day is over and nobody recorded anything
    PENDING = "pending"  # the half-day has not ended yet
    # Over before the team gave her a place (a late joiner): nothing to sign, no absence.
    NOT_REGISTERED = "not_registered"
    # Signed by personal link for an on-site half-day: counts once the trainer confirms.
    TO_CONFIRM = "to_confirm"


STATE_LABELS = {
    CellState.PRESENT: gettext_lazy("present"),
    CellState.ABSENT: gettext_lazy("absent"),
    CellState.UNSIGNED: gettext_lazy("not signed"),
    CellState.PENDING: gettext_lazy("not signed yet"),
    CellState.NOT_REGISTERED: gettext_lazy("not registered yet"),
    CellState.TO_CONFIRM: gettext_lazy("signed, to be confirmed"),
}
METHOD_LABELS = {
    Attendance.Method.CODE: gettext_lazy("code"),
    Attendance.Method.LINK: gettext_lazy("link"),
    Attendance.Method.TRAINER: gettext_lazy("trainer"),
}


def half_day_hours(half_day: HalfDay) -> float:
    opens, closes = half_day.window()
    return (closes - opens).total_seconds() / 3600


def hours_label(hours: float) -> str:
    """« 3 h 30 », « 7 h »: how an attendance sheet writes durations."""
    whole, minutes = divmod(round(hours * 60), 60)
    return f"{whole} h {minutes:02d}" if minutes else f"{whole} h"


@dataclass
class Column:
    half_day: HalfDay
    started: bool  # the trainer may record attendance from the start of the half-day on

    @property
    def hours(self) -> float:
        return half_day_hours(self.half_day)

    @property
    def hours_label(self) -> str:
        return hours_label(self.hours)


@dataclass
class Cell:
    half_day: HalfDay
    attendance: Attendance | None
    state: str
    recordable: bool

    @property
    def label(self) -> str:
        """« present (signed at 09:12 by code) », « absent », « not signed »."""
        attendance = self.attendance
        if self.state == CellState.PRESENT and attendance.signed_at:
            return _("present (signed at %(time)s by %(method)s)") % {
                "time": _local_time(attendance.signed_at),
                "method": METHOD_LABELS[attendance.method],
            }
        if self.state == CellState.TO_CONFIRM:
            return _(
                "signed at %(time)s by personal link, not counted until the trainer confirms"
            ) % {"time": _local_time(attendance.signed_at)}
        return str(STATE_LABELS[self.state])

    @property
    def confirmed(self) -> bool:
        return self.attendance is not None and self.attendance.confirmed_by_id is not None


@dataclass
class Row:
    learner: User
    seat: Seat
    cells: list[Cell] = field(default_factory=list)
    # What the disability referent tells the trainers; the trainers' page only, never
    # the sheet handed to funders.
    accommodation_notes: list[str] = field(default_factory=list)

    @property
    def hours_attended(self) -> float:
        return sum(half_day_hours(c.half_day) for c in self.cells if c.state == CellState.PRESENT)

    @property
    def hours_label(self) -> str:
        return hours_label(self.hours_attended)


@dataclass
class Sheet:
    session: TrainingSession
    columns: list[Column]
    rows: list[Row]

    @property
    def has_accommodation_notes(self) -> bool:
        return any(row.accommodation_notes for row in self.rows)

    @property
    def planned_hours_label(self) -> str:
        """The session's planned duration, every half-day counted: what funders compare
        each learner's hours attended with."""
        return hours_label(sum(column.hours for column in self.columns))

    def by_half_day(self) -> list[tuple[Column, list[tuple[User, Cell]]]]:
        """The same cells, one list per half-day: the layout of a portrait page."""
        return [
            (column, [(row.learner, row.cells[index]) for row in self.rows])
            for index, column in enumerate(self.columns)
        ]


def _state(
    half_day: HalfDay, attendance: Attendance | None, seat: Seat, at: datetime.datetime
) -> str:
    if attendance is not None:
        return CellState.TO_CONFIRM if attendance.awaits_confirmation else attendance.status
    ends = half_day.window()[1]
    if seat.confirmed_at is not None and seat.confirmed_at >= ends:
        return CellState.NOT_REGISTERED
    return CellState.UNSIGNED if at > ends else CellState.PENDING


def trainers_sheet(session: TrainingSession, at: datetime.datetime, *, closed: bool) -> Sheet:
    """The sheet as the session's trainers see it: with what the disability referent
    wrote for them, while they may record attendance (`closed` False). Never on the
    sheet handed to funders (`attendance_sheet`)."""
    sheet = attendance_sheet(session, at)
    if not closed:
        notes = AccommodationRequest.objects.notes_for_trainers(session)
        for row in sheet.rows:
            row.accommodation_notes = notes.get(row.learner.pk, [])
    return sheet


def attendance_sheet(session: TrainingSession, at: datetime.datetime | None = None) -> Sheet:
    """Every confirmed seat's attendance for every half-day of `session`, in three queries."""
    at = at or timezone.now()
    columns = [Column(h, started=at >= h.window()[0]) for h in session.half_days.all()]
    seats = list(
        session.seats.confirmed()
        .select_related("learner")
        .order_by("learner__full_name", "learner__email")
    )
    attendances = {
        (a.half_day_id, a.learner_id): a
        for a in Attendance.objects.filter(half_day__session=session).select_related(
            "confirmed_by", "half_day"
        )
    }
    rows = []
    for seat in seats:
        row = Row(learner=seat.learner, seat=seat)
        for column in columns:
            attendance = attendances.get((column.half_day.pk, seat.learner_id))
            state = _state(column.half_day, attendance, seat, at)
            row.cells.append(Cell(column.half_day, attendance, state, column.started))
        rows.append(row)
    return Sheet(session=session, columns=columns, rows=rows)
