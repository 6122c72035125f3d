from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from learners.forms import ProfileForm


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "learners/dashboard.html")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile has been saved."))
        return redirect("learners:profile")
    return render(request, "learners/profile.html", {"form": form})
