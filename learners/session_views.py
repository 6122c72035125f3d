"""Taking and cancelling a place in a training session (learners/sessions.py)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courses.models import TrackPage
from learners import services, sessions
from learners.session_models import Seat, TrainingSession


def _back(request: HttpRequest, session: TrainingSession) -> HttpResponse:
    # Cancelling works from the dashboard and from the track page: go back where it was asked.
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(session.track.get_url(request) or "learners:dashboard")


@login_required
@require_POST
def take_seat(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(
        # Like enrolment: a track behind a view restriction is not open to a seat.
        TrainingSession.objects.filter(track__in=TrackPage.objects.live().public()).select_related(
            "track"
        ),
        pk=session_id,
    )
    try:
        seat = sessions.take_seat(request.user, session)
    except services.JourneyRefused as refusal:
        messages.error(request, str(refusal))
        return _back(request, session)
    if seat.status == Seat.Status.CONFIRMED:
        messages.success(request, _("Your place is confirmed: %(session)s.") % {"session": session})
    else:
        messages.info(
            request,
            _(
                "The session is full: you are number %(rank)s on the waiting list of "
                "%(session)s. If a place frees up, it is yours and we will write to you."
            )
            % {"rank": sessions.waiting_rank(seat), "session": session},
        )
    return _back(request, session)


@login_required
@require_POST
def cancel_seat(request: HttpRequest, seat_id: int) -> HttpResponse:
    seat = get_object_or_404(
        Seat.objects.select_related("session", "session__track"), pk=seat_id, learner=request.user
    )
    was_waiting = seat.status == Seat.Status.WAITING
    try:
        # What the page showed: leaving a waiting list never gives up a place since confirmed.
        sessions.cancel_seat(seat, shown=request.POST.get("status"))
    except sessions.PlaceConfirmedSince as kept:
        messages.warning(request, str(kept))
    except sessions.SeatRefused as refusal:
        messages.error(request, str(refusal))
    else:
        if was_waiting:
            message = _("You left the waiting list of %(session)s.")
        else:
            message = _("Your place in %(session)s is cancelled.")
        messages.success(request, message % {"session": seat.session})
    return _back(request, seat.session)
