"""The training team's seat tools, on a session's page in the admin.

From a session's first day learners neither take nor cancel a place themselves:
they write to the training team (learners/sessions.py). These forms are how the
team answers: give a place (a late joiner, or someone on the waiting list), or
cancel one (someone who never came). Staff who may change sessions use them.
"""

from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learners import services, sessions
from learners.models import User
from learners.session_models import Seat, TrainingSession


class GivePlaceForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Email address of the person"),
        help_text=gettext_lazy("The address of their account on the platform."),
    )

    def clean_email(self) -> User:
        email = self.cleaned_data["email"]
        learner = User.objects.filter(email__iexact=email).first()
        if learner is None:
            raise forms.ValidationError(
                _(
                    "No account uses %(email)s: the person creates one first, then you "
                    "give the place."
                )
                % {"email": email}
            )
        return learner


# What staff typed in « give a place » when it was refused, for the session's page
# to show again beside the reason: the page is reached by a redirect.
TYPED_KEY = "learners:give_place:typed"


def can_manage_seats(user) -> bool:
    return user.has_perm("learners.change_trainingsession")


def seat_tool(
    view: Callable[..., HttpResponse] | None = None, *, confirmed_by_get: bool = False
) -> Callable:
    """Staff who may change sessions; they act by POST (the forms on the session's page).

    `confirmed_by_get`: a GET shows what the action will do and asks to confirm it.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not can_manage_seats(request.user):
                raise PermissionDenied
            allowed = ["GET", "POST"] if confirmed_by_get else ["POST"]
            if request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


def typed_give_place(request: HttpRequest, session_pk: int) -> dict:
    """The address refused a moment ago on this session's page, and why; read once."""
    typed = request.session.pop(TYPED_KEY, None)
    if not isinstance(typed, dict) or typed.get("session") != session_pk:
        return {}
    return typed


def _keep_typed(request: HttpRequest, session_pk: int, email: str, error: str) -> None:
    request.session[TYPED_KEY] = {"session": session_pk, "email": email[:254], "error": error}


def _session_page(session_pk: int) -> str:
    return reverse("wagtailsnippets_learners_trainingsession:inspect", args=[session_pk])


def _refused(request: HttpRequest, error: services.JourneyRefused, learner: User) -> str:
    if isinstance(error, services.PrerequisitesMissing):
        # The enrolment's own message speaks to the learner: say whose prerequisites.
        message = _("%(name)s cannot follow this track yet. %(reason)s") % {
            "name": learner.display_name,
            "reason": error,
        }
    else:
        message = str(error)
    messages.error(request, message)
    return message


@seat_tool
def give_place(request: HttpRequest, session_pk: int) -> HttpResponse:
    session = get_object_or_404(TrainingSession, pk=session_pk)
    form = GivePlaceForm(request.POST)
    typed = request.POST.get("email", "").strip()
    if not form.is_valid():
        # Said at the top of the page as every refusal, and beside the field again,
        # with the address as typed, to correct rather than type again.
        for error in form.errors["email"]:
            messages.error(request, error)
        _keep_typed(request, session.pk, typed, " ".join(form.errors["email"]))
        return redirect(_session_page(session.pk))
    learner = form.cleaned_data["email"]
    try:
        sessions.give_place(learner, session)
    except services.JourneyRefused as error:
        # A full session, say: once its capacity is raised the same address goes again.
        _keep_typed(request, session.pk, typed, _refused(request, error, learner))
    else:
        messages.success(
            request,
            _("%(name)s holds a place in this session, and was told by mail.")
            % {"name": learner.display_name},
        )
    return redirect(_session_page(session.pk))


@seat_tool
def give_waiting_place(request: HttpRequest, seat_pk: int) -> HttpResponse:
    seat = get_object_or_404(Seat.objects.select_related("learner", "session"), pk=seat_pk)
    try:
        sessions.promote_waiting(seat)
    except services.JourneyRefused as error:
        _refused(request, error, seat.learner)
    else:
        messages.success(
            request,
            _("%(name)s holds a place in this session, and was told by mail.")
            % {"name": seat.learner.display_name},
        )
    return redirect(_session_page(seat.session_id))


@seat_tool(confirmed_by_get=True)
def withdraw_place(request: HttpRequest, seat_pk: int) -> HttpResponse:
    seat = get_object_or_404(Seat.objects.select_related("learner", "session"), pk=seat_pk)
    if request.method == "GET" and seat.status == Seat.Status.CANCELLED:
        messages.info(request, _("This place was already cancelled."))
        return redirect(_session_page(seat.session_id))
    if request.method == "GET":
        # The learner is mailed at once and, before the start, the place goes to the
        # next in line: nothing a click on the wrong row should do.
        return _confirm_withdrawal(request, seat)
    try:
        promoted = sessions.withdraw_place(seat)
    except sessions.SeatRefused as error:
        messages.error(request, str(error))
    else:
        message = _("The place of %(name)s is cancelled, and they were told by mail.") % {
            "name": seat.learner.display_name
        }
        if promoted is not None:
            message += " " + _("It went to %(name)s, first on the waiting list.") % {
                "name": promoted.learner.display_name
            }
        messages.success(request, message)
    return redirect(_session_page(seat.session_id))


def _confirm_withdrawal(request: HttpRequest, seat: Seat) -> HttpResponse:
    session = seat.session
    next_in_line = None
    frees_a_place = session.seats.confirmed().count() - 1 < session.capacity
    if seat.status == Seat.Status.CONFIRMED and not session.has_started and frees_a_place:
        next_in_line = session.seats.promotable().select_related("learner").first()
    return render(
        request,
        "learners/admin/withdraw_place.html",
        {
            "seat": seat,
            "session": session,
            "next_in_line": next_in_line,
            "session_url": _session_page(session.pk),
            "header_title": _("Cancel a place"),
            "page_title": _("Cancel a place"),
            "page_subtitle": str(session),
            "header_icon": "calendar",
        },
    )


def admin_urls():
    return [
        path(
            "sessions/<pk:session_pk>/give-place/",
            give_place,
            name="learners_session_give_place",
        ),
        path(
            "seats/<pk:seat_pk>/give/",
            give_waiting_place,
            name="learners_seat_give",
        ),
        path(
            "seats/<pk:seat_pk>/withdraw/",
            withdraw_place,
            name="learners_seat_withdraw",
        ),
    ]
