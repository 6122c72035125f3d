"""Training sessions of a track, their seats, half-days and attendance (émargement).

A session is a dated run of a track with a capacity. Seats are taken in the
order they are requested; a seat over capacity waits, and the first waiting
seat is promoted when a confirmed one is cancelled. Attendance is signed per
half-day, which is the unit of a French attendance sheet.
"""

import datetime
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from courses.models import TrackPage
from courses.models.pages import Format
from learners import dates


def new_attendance_token() -> str:
    # The personal sign-in link is a bearer credential: 256 bits, URL-safe.
    return secrets.token_urlsafe(32)


# Short enough to read off a projected screen and type on a phone; no 0/O, 1/I.
ATTENDANCE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ATTENDANCE_CODE_LENGTH = 6


def new_attendance_code() -> str:
    return "".join(secrets.choice(ATTENDANCE_CODE_ALPHABET) for _ in range(ATTENDANCE_CODE_LENGTH))


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_dates(values) -> list[datetime.date]:
    """The dates of a stored list, skipping what is not one (a value written by
    other means than the form must not break the pages that show the session)."""
    found = []
    for value in values if isinstance(values, list) else []:
        if isinstance(value, str) and ISO_DATE.fullmatch(value):
            try:
                found.append(datetime.date.fromisoformat(value))
            except ValueError:
                continue
    return found


def validate_iso_dates(values) -> None:
    if not isinstance(values, list) or len(iso_dates(values)) != len(values):
        raise ValidationError(_("Give a list of dates written YYYY-MM-DD."), code="not_dates")


class TrainingSessionQuerySet(models.QuerySet):
    def upcoming(self, today: datetime.date | None = None):
        return self.filter(ends_on__gte=today or timezone.localdate())

    def for_trainer(self, trainer):
        return self.filter(trainers=trainer)


# A year: the longest a training session's dates may span.
MAX_DAYS = 366
# The years a session's dates may fall in: recorded past sessions, and the next few.
LAST_YEAR_BACK = 2000
YEARS_AHEAD = 5


class Periods(models.TextChoices):
    BOTH = "both", _("Morning and afternoon")
    MORNING = "am", _("Morning only")
    AFTERNOON = "pm", _("Afternoon only")


# The fields that say when a session's half-days run.
HOURS_FIELDS = (
    "periods",
    "morning_starts_at",
    "morning_ends_at",
    "afternoon_starts_at",
    "afternoon_ends_at",
)


class TrainingSession(models.Model):
    """A dated run of a track, on site, online or both."""

    track = models.ForeignKey(
        TrackPage, verbose_name=_("track"), on_delete=models.PROTECT, related_name="sessions"
    )
    title = models.CharField(
        _("title"),
        max_length=200,
        blank=True,
        help_text=_("Optional, for example « Session de printemps — Die »."),
    )
    format = models.CharField(_("format"), max_length=20, choices=Format.choices)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    place_name = models.CharField(
        _("place"),
        max_length=200,
        blank=True,
        help_text=_("For example a Fabrique de territoire. Required unless fully online."),
    )
    place_address = models.TextField(_("address"), blank=True)
    online_link = models.URLField(_("online meeting link"), blank=True)
    trainers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("trainers"),
        related_name="sessions_trained",
        blank=True,
    )
    capacity = models.PositiveSmallIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    # Dates as ISO strings (JSON has no date type). Weekends and national public
    # holidays inside a session are planned off on their own; these two lists
    # are what the calendar cannot know: a local holiday or a bridge day off,
    # and a Saturday or a holiday the session runs on all the same.
    days_off = models.JSONField(
        _("days without training"),
        default=list,
        blank=True,
        validators=[validate_iso_dates],
        help_text=_(
            "Days between the first and the last one on which nobody is trained (a local "
            "holiday, a bridge day): DD/MM/YYYY, separated by commas."
        ),
    )
    extra_days = models.JSONField(
        _("weekend or holiday days trained"),
        default=list,
        blank=True,
        validators=[validate_iso_dates],
        help_text=_(
            "A Saturday, a Sunday or a public holiday inside the session on which it runs "
            "all the same: DD/MM/YYYY, separated by commas."
        ),
    )
    # Each training day's half-days and their hours, as the attendance sheet shows them
    # and the certificat de réalisation counts them.
    periods = models.CharField(
        _("half-days trained each day"),
        max_length=4,
        choices=Periods.choices,
        default=Periods.BOTH,
    )
    morning_starts_at = models.TimeField(_("morning starts at"), default=datetime.time(9, 0))
    morning_ends_at = models.TimeField(_("morning ends at"), default=datetime.time(12, 30))
    afternoon_starts_at = models.TimeField(_("afternoon starts at"), default=datetime.time(13, 30))
    afternoon_ends_at = models.TimeField(_("afternoon ends at"), default=datetime.time(17, 0))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TrainingSessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="session_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="session_capacity_positive"),
        ]
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")

    def __str__(self) -> str:
        label = self.title or self.track.title
        return f"{label} · {self.starts_on:%d/%m/%Y}"

    def dates_off(self) -> set[datetime.date]:
        return set(iso_dates(self.days_off))

    def dates_added(self) -> set[datetime.date]:
        return set(iso_dates(self.extra_days))

    def calendar_days(self) -> list[datetime.date]:
        """The days the calendar alone makes training days: its weekdays, and its
        weekends too when it starts or ends on one (a team that trains on Saturdays
        says so by its dates); a public holiday only when it is the session's first or
        last day. A session from a Friday to a Monday trains two days, not four, and a
        week with Ascension Thursday inside it four: the days off in between would
        stand on the attendance sheet as half-days nobody signed, and swell the
        planned hours of the certificat de réalisation."""
        first, last = self.starts_on, self.ends_on
        holidays = set().union(*(dates.public_holidays(year) for year in {first.year, last.year}))
        weekends = first.weekday() >= 5 or last.weekday() >= 5
        return [
            day
            for day in self._span()
            if (weekends or day.weekday() < 5) and (day not in holidays or day in (first, last))
        ]

    def training_days(self) -> list[datetime.date]:
        """The calendar's days, less the days without training staff gave (a local
        holiday), plus the weekend or holiday days they said it runs on all the same."""
        calendar, off, added = set(self.calendar_days()), self.dates_off(), self.dates_added()
        return [day for day in self._span() if day not in off and (day in calendar or day in added)]

    def weekdays_without_training(self) -> list[datetime.date]:
        """What learners are told: the weekdays between its first and last day it skips."""
        trained = set(self.training_days())
        return [day for day in self._span() if day.weekday() < 5 and day not in trained]

    def _span(self) -> list[datetime.date]:
        first, last = self.starts_on, self.ends_on
        return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]

    def planned_hours(self) -> dict[str, tuple[datetime.time, datetime.time]]:
        """Each half-day period a training day has, with its hours."""
        planned = {}
        if self.periods in (Periods.BOTH, Periods.MORNING):
            planned["am"] = (self.morning_starts_at, self.morning_ends_at)
        if self.periods in (Periods.BOTH, Periods.AFTERNOON):
            planned["pm"] = (self.afternoon_starts_at, self.afternoon_ends_at)
        return planned

    @property
    def has_started(self) -> bool:
        """From its first day on, places are the training team's to give or take back."""
        return self.starts_on <= timezone.localdate()

    @property
    def is_over(self) -> bool:
        return self.ends_on < timezone.localdate()

    def clean(self):
        errors = {}
        for name in ("starts_on", "ends_on"):
            day = getattr(self, name)
            if day and not (LAST_YEAR_BACK <= day.year <= timezone.localdate().year + YEARS_AHEAD):
                # A mistyped year (9999) would overflow the date arithmetic of the
                # activity evidence, and no session is planned decades ahead.
                errors[name] = _(
                    "Check the year: a session takes place between %(first)s and %(last)s."
                ) % {"first": LAST_YEAR_BACK, "last": timezone.localdate().year + YEARS_AHEAD}
        if errors:
            raise ValidationError(errors)
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The last day cannot be before the first day.")
        elif self.starts_on and self.ends_on and (self.ends_on - self.starts_on).days >= MAX_DAYS:
            # Each day gets its half-days for the attendance sheet, planned in the
            # request: a mistyped year would plan thousands.
            errors["ends_on"] = _(
                "A session lasts at most %(days)s days: check the year, or split it."
            ) % {"days": MAX_DAYS}
        if self.format in (Format.ON_SITE, Format.BLENDED) and not self.place_name:
            errors["place_name"] = _("Give the place of an on-site or blended session.")
        errors.update(self._hours_errors())
        if self.starts_on and self.ends_on and not errors:
            errors.update(self._calendar_errors())
        if self.pk and not errors:
            errors.update(self._started_hours_errors())
        if errors:
            raise ValidationError(errors)

    def _hours_errors(self) -> dict:
        errors = {}
        planned = self.planned_hours()
        for period, field in (("am", "morning_ends_at"), ("pm", "afternoon_ends_at")):
            start, end = planned.get(period, (None, None))
            if start and end and end <= start:
                errors[field] = _("A half-day ends after it starts.")
        morning, afternoon = planned.get("am"), planned.get("pm")
        both_set = morning and afternoon and None not in (*morning, *afternoon)
        if both_set and not errors and afternoon[0] < morning[1]:
            errors["afternoon_starts_at"] = _("The afternoon starts once the morning is over.")
        return errors

    def _started_hours_errors(self) -> dict:
        """Once its first half-day has begun, a session's half-days and their hours are
        those of its attendance sheet: new ones would be created in the past, and past
        ones moved or dropped, signed or not yet recorded. Only a change to what the
        session trains is checked, so that other edits stay possible."""
        stored = TrainingSession.objects.filter(pk=self.pk).first()
        if stored is None or stored.planned_hours() == self.planned_hours():
            return {}
        first = HalfDay.objects.filter(session=self).order_by("date", "starts_at").first()
        if first is None or first.window()[0] > timezone.now():
            return {}
        changed = next(
            name for name in HOURS_FIELDS if getattr(self, name) != getattr(stored, name)
        )
        return {
            changed: _(
                "This session has started: its half-days and their hours stay as they "
                "were, those of its attendance sheet."
            )
        }

    def _calendar_errors(self) -> dict:
        errors = {}
        off, added = self.dates_off(), self.dates_added()
        span = set(self._span())
        inside = span - {self.starts_on, self.ends_on}
        calendar = set(self.calendar_days())
        refusals = (
            # The first and last days frame the session: its dates say when it runs.
            (
                "days_off",
                off - inside,
                _(
                    "%(days)s: not strictly between the first and the last day; "
                    "change the session's dates instead."
                ),
            ),
            ("days_off", off - calendar, _("%(days)s: already no training day.")),
            ("extra_days", added - span, _("%(days)s: outside the session's dates.")),
            ("extra_days", added & off, _("%(days)s: also a day without training.")),
            ("extra_days", added & calendar, _("%(days)s: already a training day.")),
        )
        for name, days, message in refusals:
            if days and name not in errors:
                errors[name] = message % {"days": _listed(sorted(days))}
        if self.pk and not errors:
            errors.update(self._signed_days_errors())
        return errors

    def _signed_days_errors(self) -> dict:
        """A day whose sheet is already filled in stays a training day: its half-days
        would stay on the sheet, signed, outside the days the session trains on. Only
        what staff change here is checked: a day signed before the calendar rules
        skipped it (kept, signed, by learners/migrations/0013) must not block an edit."""
        filled = set(
            Attendance.objects.filter(half_day__session=self).values_list(
                "half_day__date", flat=True
            )
        )
        if not filled:
            return {}
        stored = (
            TrainingSession.objects.filter(pk=self.pk)
            .values_list("starts_on", "ends_on", "extra_days")
            .first()
        )
        if stored is None:
            return {}
        stored_start, stored_end, stored_added = stored
        no_longer_added = set(iso_dates(stored_added or [])) - self.dates_added()
        errors = {}
        # New dates that leave out a day signed within the stored ones: its half-days
        # would stay on the sheet, and in the hours certificates state, outside them.
        was_inside = {day for day in filled if stored_start <= day <= stored_end}
        for name, days in (
            ("starts_on", {day for day in was_inside if day < self.starts_on}),
            ("ends_on", {day for day in was_inside if day > self.ends_on}),
        ):
            if days:
                errors[name] = _(
                    "%(days)s: the attendance sheet of that day is already filled in; "
                    "the session's dates must keep it."
                ) % {"days": _listed(sorted(days))}
        for name, days in (
            ("days_off", filled & self.dates_off()),
            ("extra_days", (filled & no_longer_added) - set(self.calendar_days())),
        ):
            if days:
                errors[name] = _(
                    "%(days)s: the attendance sheet of that day is already filled in; "
                    "it stays a training day."
                ) % {"days": _listed(sorted(days))}
        return errors


# More than this in one message would bury the form.
LISTED_AT_MOST = 10


def _listed(days: list[datetime.date]) -> str:
    shown = ", ".join(f"{day:%d/%m/%Y}" for day in days[:LISTED_AT_MOST])
    if len(days) > LISTED_AT_MOST:
        more = len(days) - LISTED_AT_MOST
        shown += " " + ngettext("and %(count)s more", "and %(count)s more", more) % {"count": more}
    return shown


class SeatQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(status=Seat.Status.CONFIRMED)

    def waiting(self):
        return self.filter(status=Seat.Status.WAITING).order_by("requested_at", "pk")

    def promotable(self):
        """Waiting seats a freed place may go to: not those of closed or erased accounts,
        whom no notice reaches (the place would be lost to the next in line)."""
        return self.waiting().filter(learner__is_active=True, learner__erased_at__isnull=True)

    def active(self):
        return self.exclude(status=Seat.Status.CANCELLED)


class Seat(models.Model):
    """A learner's place in a session: confirmed, on the waiting list, or cancelled.

    Cancelling keeps the row (history for Qualiopi); enrolling again creates a
    new one, which queues behind those already waiting.
    """

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITING = "waiting", _("On the waiting list")
        CANCELLED = "cancelled", _("Cancelled")

    session = models.ForeignKey(
        TrainingSession, verbose_name=_("session"), on_delete=models.CASCADE, related_name="seats"
    )
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="seats",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    attendance_token = models.CharField(max_length=64, unique=True, default=new_attendance_token)

    objects = SeatQuerySet.as_manager()

    class Meta:
        ordering = ["requested_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "learner"],
                condition=~Q(status="cancelled"),
                name="seat_one_active_per_learner",
            ),
        ]
        indexes = [models.Index(fields=["session", "status", "requested_at"])]
        verbose_name = _("seat")
        verbose_name_plural = _("seats")

    def __str__(self) -> str:
        return f"{self.learner} · {self.session} · {self.get_status_display()}"


class HalfDay(models.Model):
    """A morning or an afternoon of a session: the unit signed on the attendance sheet."""

    class Period(models.TextChoices):
        MORNING = "am", _("Morning")
        AFTERNOON = "pm", _("Afternoon")

    session = models.ForeignKey(
        TrainingSession,
        verbose_name=_("session"),
        on_delete=models.CASCADE,
        related_name="half_days",
    )
    date = models.DateField(_("date"))
    period = models.CharField(_("period"), max_length=2, choices=Period.choices)
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))
    online = models.BooleanField(_("online"), default=False)
    code = models.CharField(
        _("sign-in code"), max_length=12, unique=True, default=new_attendance_code
    )

    class Meta:
        ordering = ["date", "period"]
        constraints = [
            models.UniqueConstraint(fields=["session", "date", "period"], name="half_day_unique"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="half_day_ends_after_start"
            ),
        ]
        verbose_name = _("half-day")
        verbose_name_plural = _("half-days")

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.get_period_display()}"

    def window(self) -> tuple[datetime.datetime, datetime.datetime]:
        """When signing in is open: from the start to the end of the half-day, local time."""
        tz = timezone.get_current_timezone()
        return (
            datetime.datetime.combine(self.date, self.starts_at, tzinfo=tz),
            datetime.datetime.combine(self.date, self.ends_at, tzinfo=tz),
        )

    def is_open(self, at: datetime.datetime | None = None) -> bool:
        opens, closes = self.window()
        return opens <= (at or timezone.now()) <= closes


class AttendanceQuerySet(models.QuerySet):
    def counted(self):
        """Presences that count towards hours attended and the documents issued from them.

        A personal link signs from anywhere: on an on-site half-day its signature says
        the learner meant to be there, and counts once a trainer confirmed it. A code is
        shown in the room, and online half-days have no room.
        """
        return self.filter(status=Attendance.Status.PRESENT).exclude(
            method=Attendance.Method.LINK, half_day__online=False, confirmed_at__isnull=True
        )

    def awaiting_confirmation(self):
        """Presences not counted yet: personal-link signatures of on-site half-days that no
        trainer confirmed (`counted`'s other side)."""
        return self.filter(
            status=Attendance.Status.PRESENT,
            method=Attendance.Method.LINK,
            half_day__online=False,
            confirmed_at__isnull=True,
        )


class Attendance(models.Model):
    """One learner's presence or absence for one half-day."""

    class Status(models.TextChoices):
        PRESENT = "present", _("Present")
        ABSENT = "absent", _("Absent")

    class Method(models.TextChoices):
        CODE = "code", _("Code shown by the trainer")
        LINK = "link", _("Personal link")
        TRAINER = "trainer", _("Recorded by the trainer")

    half_day = models.ForeignKey(
        HalfDay, verbose_name=_("half-day"), on_delete=models.CASCADE, related_name="attendances"
    )
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="attendances",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    method = models.CharField(_("how"), max_length=10, choices=Method.choices)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    objects = AttendanceQuerySet.as_manager()

    class Meta:
        ordering = ["half_day", "learner"]
        constraints = [
            models.UniqueConstraint(fields=["half_day", "learner"], name="attendance_once"),
        ]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")

    def __str__(self) -> str:
        return f"{self.learner} · {self.half_day} · {self.get_status_display()}"

    @property
    def awaits_confirmation(self) -> bool:
        """Signed by personal link for an on-site half-day: not counted until confirmed
        (`AttendanceQuerySet.counted`)."""
        return (
            self.status == self.Status.PRESENT
            and self.method == self.Method.LINK
            and not self.half_day.online
            and self.confirmed_at is None
        )


class ActivityEvent(models.Model):
    """What a learner did online, kept as proof of completion of online parts.

    Written by the app as things happen (login, lesson opened or done, quiz
    submitted); summarised per learner for a session's evidence.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", _("Signed in")
        LESSON_VIEWED = "lesson_viewed", _("Lesson opened")
        LESSON_DONE = "lesson_done", _("Lesson done")
        QUIZ_SUBMITTED = "quiz_submitted", _("Quiz submitted")

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="activity",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["learner", "at"])]
        verbose_name = _("activity event")
        verbose_name_plural = _("activity events")

    def __str__(self) -> str:
        return f"{self.learner} · {self.get_kind_display()} · {self.at:%d/%m/%Y %H:%M}"
