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
from django.shortcuts import get_object_or_404, redirect
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


def can_manage_seats(user) -> bool:
    return user.has_perm("learners.change_trainingsession")


def seat_tool(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff who may change sessions, by POST only (the forms on the session's page)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not can_manage_seats(request.user):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(request, *args, **kwargs)

    return wrapped


def _session_page(session_pk: int) -> str:
    return reverse("wagtailsnippets_learners_trainingsession:inspect", args=[session_pk])


def _refused(request: HttpRequest, error: services.JourneyRefused, learner: User) -> None:
    if isinstance(error, services.PrerequisitesMissing):
        # The enrolment's own message speaks to the learner: say whose prerequisites.
        message = _("%(name)s cannot follow this track yet. %(reason)s") % {
            "name": learner.display_name,
            "reason": error,
        }
    else:
        message = str(error)
    messages.error(request, message)


@seat_tool
def give_place(request: HttpRequest, session_pk: int) -> HttpResponse:
    session = get_object_or_404(TrainingSession, pk=session_pk)
    form = GivePlaceForm(request.POST)
    if not form.is_valid():
        for error in form.errors["email"]:
            messages.error(request, error)
        return redirect(_session_page(session.pk))
    learner = form.cleaned_data["email"]
    try:
        sessions.give_place(learner, session)
    except services.JourneyRefused as error:
        _refused(request, error, learner)
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


@seat_tool
def withdraw_place(request: HttpRequest, seat_pk: int) -> HttpResponse:
    seat = get_object_or_404(Seat.objects.select_related("learner"), pk=seat_pk)
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
