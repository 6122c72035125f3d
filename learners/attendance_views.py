"""Attendance (émargement): learners sign a half-day, trainers follow and decide."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache

from courses.models.pages import Format
from learners import activity, feedback
from learners import attendance as attendance_ops
from learners.attendance import AttendanceRefused
from learners.attendance_forms import AttendanceCodeForm, ConfirmAllForm, TrainerRecordForm
from learners.models import User
from learners.session_models import Attendance, Seat, TrainingSession
from learners.sessions import with_places
from learners.spreadsheets import SpreadsheetWriter

# --- Learners ----------------------------------------------------------------------------


def _signed(request: HttpRequest, attendance: Attendance) -> HttpResponse:
    attendance = Attendance.objects.select_related("learner", "half_day__session__track").get(
        pk=attendance.pk
    )
    return render(request, "learners/attendance/signed.html", {"attendance": attendance})


@never_cache
@login_required
def sign_with_code(request: HttpRequest) -> HttpResponse:
    form = AttendanceCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            signed = attendance_ops.sign_in_with_code(request.user, form.cleaned_data["code"])
        except AttendanceRefused as refusal:
            form.add_error("code", str(refusal))
        else:
            return _signed(request, signed)
    return render(
        request,
        "learners/attendance/sign.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@never_cache
def sign_with_link(request: HttpRequest, token: str) -> HttpResponse:
    # No login: the seat's token is the capability, so a learner signs from the
    # link in their mail on a phone where they never logged in.
    try:
        seat = attendance_ops.seat_for_token(token)
    except Seat.DoesNotExist:
        raise Http404 from None
    refusal = None
    if request.method == "POST":
        try:
            return _signed(request, attendance_ops.sign_in_with_link(token))
        except AttendanceRefused as error:
            refusal = str(error)
    return render(
        request,
        "learners/attendance/link.html",
        {
            "seat": seat,
            "half_day": attendance_ops.open_half_day(seat.session),
            "refusal": refusal,
        },
        status=400 if refusal else 200,
    )


# --- Trainers ----------------------------------------------------------------------------


def _is_trainer(user: User) -> bool:
    # Staff reach the page from their dashboard; without the attendance permission it
    # lists only the sessions they lead.
    return user.is_staff or user.role == User.Role.TRAINER


@login_required
def trainer_sessions(request: HttpRequest) -> HttpResponse:
    if not _is_trainer(request.user):
        raise Http404  # a learner has no business knowing this page exists
    sessions = with_places(attendance_ops.sessions_run_by(request.user))
    # The sessions she leads that started: her appraisal of them is asked for (Qualiopi 30).
    appraisable = set(
        TrainingSession.objects.filter(
            trainers=request.user, starts_on__lte=timezone.localdate()
        ).values_list("pk", flat=True)
    )
    return render(
        request,
        "learners/attendance/trainer_sessions.html",
        {
            "sessions": sessions,
            "every_session": attendance_ops.records_every_session(request.user),
            "appraisable": appraisable,
        },
    )


def _session_or_404(request: HttpRequest, session_id: int) -> TrainingSession:
    # Another trainer's session is a 404: which sessions exist is none of their business.
    return get_object_or_404(attendance_ops.sessions_run_by(request.user), pk=session_id)


def _record(request: HttpRequest, session: TrainingSession):
    """Apply the trainer's POST; the bound form (with errors) when it was refused."""
    if request.POST.get("action") == "confirm_all":
        form = ConfirmAllForm(request.POST, session=session)
        if form.is_valid():
            try:
                count = attendance_ops.confirm_all_signed(
                    form.cleaned_data["half_day"], request.user
                )
            except AttendanceRefused as refusal:
                form.add_error(None, str(refusal))
                return form
            messages.success(
                request,
                ngettext("%(count)d signature confirmed.", "%(count)d signatures confirmed.", count)
                % {"count": count},
            )
            return None
        return form
    form = TrainerRecordForm(request.POST, session=session)
    if form.is_valid():
        try:
            attendance_ops.record_by_trainer(
                form.cleaned_data["half_day"],
                form.cleaned_data["learner"],
                form.cleaned_data["status"],
                request.user,
            )
        except AttendanceRefused as refusal:
            form.add_error(None, str(refusal))
            return form
        messages.success(
            request,
            _("Attendance of %(name)s recorded.")
            % {"name": form.cleaned_data["learner"].display_name},
        )
        return None
    return form


@never_cache
@login_required
def session_attendance(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session_or_404(request, session_id)
    form = None
    if request.method == "POST":
        form = _record(request, session)
        if form is None:
            return redirect("learners:session_attendance", session_id=session.pk)
    now = timezone.now()
    current = attendance_ops.current_or_next_half_day(session, now)
    projection = {
        "current": current,
        "current_shown": current is not None and attendance_ops.code_shown(current, now),
        "shown_from": current and timezone.localtime(attendance_ops.code_shown_from(current)),
        "current_open": current is not None and current.is_open(now),
        "sign_url": request.build_absolute_uri(reverse("learners:attendance_sign")),
        # The page stays projected for hours: its script asks for the code again then.
        "code_changes_in": attendance_ops.seconds_until_the_code_changes(current, now),
    }
    part = request.GET.get("part") if request.method == "GET" else None
    if part == "projection":
        # The code alone: no sheet to compute, and no flash message read meanwhile.
        return render(request, "learners/attendance/projection.html", projection)
    online = session.format != Format.ON_SITE
    closed = attendance_ops.closed_for(request.user, session, now)
    grid = {
        "session": session,
        "sheet": attendance_ops.trainers_sheet(session, now, closed=closed),
        "closed": closed,
    }
    if part == "grid":
        # The grid alone, as the page would show it now: signatures, buttons.
        return render(request, "learners/attendance/grid.html", grid)
    return render(
        request,
        "learners/attendance/session.html",
        {
            **projection,
            **grid,
            "form": form,
            "activity": activity.session_activity(session) if online else None,
            "closes_on": attendance_ops.closes_on(session),
            "asks_feedback": session.has_started
            and feedback.may_give_trainer_feedback(request.user, session),
        },
        status=400 if form is not None else 200,
    )


@never_cache
@login_required
def session_activity_csv(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session_or_404(request, session_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"activite-session-{session.pk}-{session.starts_on.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A byte order mark and semicolons: what French spreadsheets open correctly.
    response.write("\ufeff")
    writer = SpreadsheetWriter(response, delimiter=";")
    # The page's own column headings, and its dates, in the reader's language.
    writer.writerow(
        [
            _("Learner"),
            _("Time spent (minutes)"),
            _("Lessons done"),
            _("Quizzes submitted"),
            _("First connection"),
            _("Last connection"),
        ]
    )
    for row in activity.session_activity(session):
        summary = row.summary
        writer.writerow(
            [
                row.learner.display_name,
                summary.minutes,
                summary.lessons_done,
                summary.quizzes_submitted,
                _local_moment(summary.first_connection),
                _local_moment(summary.last_connection),
            ]
        )
    return response


def _local_moment(moment) -> str:
    # SHORT_DATETIME_FORMAT: « 23/11/2026 14:05 » in French, which spreadsheets read.
    return (
        formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT") if moment else ""
    )
