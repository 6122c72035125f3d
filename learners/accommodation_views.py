"""A learner's accommodation requests for a track: send one, read the answers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from courses.models import TrackPage
from learners import accommodations
from learners.accommodation_forms import AccommodationForm, EnrolmentNeedForm
from learners.models import AccommodationRequest

TEMPLATE = "learners/accommodation.html"


def _context(request: HttpRequest, track: TrackPage, form, enrolling: bool) -> dict:
    return {
        "track": track,
        "referent": accommodations.referent(track),
        "form": form,
        "enrolling": enrolling,
        "requests": AccommodationRequest.objects.filter(learner=request.user, track=track),
    }


@login_required
def accommodation(request: HttpRequest, track_id: int) -> HttpResponse:
    track = get_object_or_404(TrackPage.objects.live().public(), pk=track_id)
    form = AccommodationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            accommodations.request_accommodation(request.user, track, form.cleaned_data["need"])
        except accommodations.RequestRefused as refusal:
            form.add_error(None, str(refusal))  # the need stays on the form, as typed
        else:
            messages.success(request, request_sent_message(track))
            return redirect("learners:accommodation", track_id=track.pk)
    return render(request, TEMPLATE, _context(request, track, form, enrolling=False))


def enrol_form_again(
    request: HttpRequest, track: TrackPage, form: EnrolmentNeedForm
) -> HttpResponse:
    """The enrolment form with its errors and the need as typed: nothing was recorded yet."""
    return render(request, TEMPLATE, _context(request, track, form, enrolling=True))


def request_sent_message(track: TrackPage) -> str:
    return _("Your accommodation request has been sent to %(referent)s.") % {
        "referent": accommodations.referent(track).name
    }
