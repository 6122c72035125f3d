import time

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from wagtail.models import Page

from courses.models import LessonPage, ModulePage, TrackPage
from learners import (
    accommodation_views,
    accommodations,
    exports,
    identity_checks,
    page_cache,
    queries,
    services,
)
from learners.accommodation_forms import EnrolmentNeedForm
from learners.forms import ConfirmIdentityForm, EraseAccountForm, ObservationForm, ProfileForm
from learners.identity_checks import identity_confirmed
from learners.models import LedgerEntry, User
from learners.session_models import Seat, TrainingSession


@page_cache.cached_for_learner
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    # Lazy: a learner's dashboard kept in the cache (learners/page_versions.py) reads nothing.
    path = SimpleLazyObject(lambda: queries.learning_path(request.user))
    return render(
        request,
        "learners/dashboard.html",
        {
            "path": path,
            "suggested": SimpleLazyObject(lambda: queries.suggested_tracks(request.user)),
            "is_trainer": _is_trainer(request.user),
        },
    )


# What a profile form asked to save while the person confirmed her identity.
PROFILE_WAITING_KEY = "profile_waiting_for_identity"


def _waiting_profile(request: HttpRequest) -> dict | None:
    # Kept as long as a confirmation lasts: left behind at a kiosk by someone who never
    # confirmed, it must not greet the account's owner later as her own unsaved change.
    waiting = request.session.get(PROFILE_WAITING_KEY) or {}
    if time.time() - waiting.get("at", 0) < identity_checks.RECENT_SECONDS:
        return waiting.get("values")
    request.session.pop(PROFILE_WAITING_KEY, None)
    return None


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    waiting = _waiting_profile(request)
    # Before validation, which writes the typed values onto the instance.
    name_before = request.user.full_name
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=request.user)
    else:
        # Back from confirming her identity: what she typed, to save with one click.
        form = ProfileForm(instance=request.user, initial=waiting)
    if request.method == "POST" and form.is_valid():
        fields = ProfileForm.Meta.fields
        renamed = form.cleaned_data["full_name"] != name_before
        if renamed and not identity_checks.confirmed_recently(request):
            # Certificates print this name: a browser left signed in (a kiosk) must
            # not let the next person change it. Nothing typed is lost meanwhile.
            request.session[PROFILE_WAITING_KEY] = {
                "values": {name: form.cleaned_data[name] for name in fields},
                "at": time.time(),
            }
            url = reverse("learners:confirm_identity")
            return redirect(f"{url}?{urlencode({'next': reverse('learners:profile')})}")
        request.session.pop(PROFILE_WAITING_KEY, None)
        # The account as it is now, locked: one the team erased while this request ran
        # gets nothing written back, not even the name. Only the form's own fields.
        with transaction.atomic():
            account = User.objects.select_for_update().get(pk=request.user.pk)
            if account.erased_at is not None:
                return redirect("learners:dashboard")  # signed out: the login page
            for name in fields:
                setattr(account, name, form.cleaned_data[name])
            # A first name given issues what waited for it (User.save).
            account.save(update_fields=fields)
        messages.success(request, _("Your profile has been saved."))
        return redirect("learners:profile")
    return render(request, "learners/profile.html", {"form": form, "waiting": bool(waiting)})


# --- Enrolment and progress ------------------------------------------------------


def _enrollable_page(page_id: int) -> TrackPage | ModulePage:
    pages = Page.objects.live().public().type(TrackPage, ModulePage)
    return get_object_or_404(pages, pk=page_id).specific


def _back_to(request: HttpRequest, page: Page) -> HttpResponse:
    return redirect(page.get_url(request) or reverse("learners:dashboard"))


@login_required
@require_POST
def enrol(request: HttpRequest, page_id: int) -> HttpResponse:
    page = _enrollable_page(page_id)
    # A track's form may carry an accommodation request: both are recorded, or neither.
    need_form = EnrolmentNeedForm(request.POST) if isinstance(page, TrackPage) else None
    if need_form is not None and not need_form.is_valid():
        return accommodation_views.enrol_form_again(request, page, need_form)
    need = need_form.cleaned_data["need"] if need_form is not None else ""
    repeated = False
    try:
        if need:
            outcome = accommodations.enrol_with_request(request.user, page, need)
            created, repeated = outcome[1], outcome[3]
        else:
            created = services.enrol(request.user, page)[1]
    except services.JourneyRefused as refusal:
        if need:  # keep what they wrote
            need_form.add_error(None, str(refusal))
            return accommodation_views.enrol_form_again(request, page, need_form)
        messages.error(request, str(refusal))
    else:
        if need:
            messages.success(request, accommodation_views.request_sent_message(page))
        if created or repeated:
            # The same form sent twice: its first sending enrolled them, which is
            # what they are told.
            messages.success(
                request, _("You are enrolled in « %(title)s ».") % {"title": page.title}
            )
        else:
            messages.info(request, _("You were already enrolled."))
    return _back_to(request, page)


@login_required
@require_POST
def leave(request: HttpRequest, page_id: int) -> HttpResponse:
    page = _enrollable_page(page_id)
    if services.leave(request.user, page):
        messages.success(
            request,
            _("You left « %(title)s ». Your progress is kept if you come back.")
            % {"title": page.title},
        )
        # A place in one of the track's sessions is another matter: leaving the
        # online track does not free it behind the learner's back, but she is told.
        kept = (
            Seat.objects.filter(
                learner=request.user,
                session__track_id=page.pk,
                status__in=[Seat.Status.CONFIRMED, Seat.Status.WAITING],
            )
            .filter(session__in=TrainingSession.objects.upcoming())
            .exists()
        )
        if kept:
            messages.info(
                request,
                _(
                    "Your place, or your place on the waiting list, in a session of this track "
                    "is kept: cancel it from « My learning path » if you will not come, so "
                    "that it goes to someone else."
                ),
            )
    else:
        messages.info(request, _("You were not enrolled."))
    return _back_to(request, page)


@login_required
@require_POST
def lesson_done(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = get_object_or_404(LessonPage.objects.live(), pk=lesson_id)
    # Whoever may open a lesson may say it is done: a lesson restricted to a group
    # counts among its module's lessons for that group's learners.
    if not all(r.accept_request(request) for r in lesson.get_view_restrictions()):
        raise Http404
    try:
        services.mark_lesson_done(request.user, lesson)
    except services.JourneyRefused as refusal:
        messages.error(request, str(refusal))
        return _back_to(request, lesson)
    module = ModulePage.objects.parent_of(lesson).get()
    progress = queries.module_progress(request.user, module)
    following = progress.next_lesson_after(lesson)
    if following is not None:
        messages.success(request, _("Lesson done. Here is the next one."))
        return _back_to(request, following)
    if progress.completed:
        messages.success(request, _("Module « %(title)s » completed.") % {"title": module.title})
    else:
        messages.success(request, _("Lesson done."))
    return _back_to(request, module)


# --- Trainers --------------------------------------------------------------------


def _is_trainer(user: User) -> bool:
    return user.role == User.Role.TRAINER or user.is_staff


def _trainer_or_404(user: User) -> None:
    # A learner has no business knowing these pages exist.
    if not _is_trainer(user):
        raise Http404


@login_required
def trainer_learners(request: HttpRequest) -> HttpResponse:
    _trainer_or_404(request.user)
    return render(
        request,
        "learners/trainer_learners.html",
        {"learners": queries.learners_of(request.user)},
    )


@login_required
def learner_file(request: HttpRequest, learner_id: int) -> HttpResponse:
    _trainer_or_404(request.user)
    trainer = request.user
    learner = get_object_or_404(queries.learners_of(trainer), pk=learner_id)
    modules = queries.trainer_modules_for(trainer, learner)
    competences = queries.trainer_competences(trainer, modules)
    # `request.POST or None` would take an empty submission for a first visit.
    data = request.POST if request.method == "POST" else None
    form = ObservationForm(data, competences=competences)
    if request.method == "POST" and form.is_valid():
        services.record_observation(
            trainer,
            learner,
            form.cleaned_data["competence"],
            form.cleaned_data["level"],
            form.cleaned_data["comment"],
        )
        messages.success(request, _("Your validation has been recorded in the ledger."))
        return redirect("learners:learner_file", learner_id=learner.pk)
    ledger = (
        LedgerEntry.objects.for_learner(learner)
        .filter(competence__in=competences)
        .select_related("competence", "level", "validated_by", "retraction")
        .order_by("-recorded_at", "-pk")
    )
    return render(
        request,
        "learners/learner_file.html",
        {
            "learner": learner,
            "progress": queries.modules_progress(learner, modules),
            "ledger": ledger,
            "positionings": queries.positionings_for_trainer(learner, modules),
            "form": form,
        },
    )


# --- RGPD ------------------------------------------------------------------------


@never_cache
@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    confirmed = identity_checks.confirmed_recently(request)
    return render(request, "learners/my_data.html", {"identity_confirmed": confirmed})


@never_cache
@login_required
def confirm_identity(request: HttpRequest) -> HttpResponse:
    back = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("learners:profile")
    if request.method == "POST" and request.POST.get("action") == "send_code":
        if not request.user.has_usable_password():
            try:
                if identity_checks.send_code(request):
                    messages.success(
                        request, _("A code was sent to %(email)s.") % {"email": request.user.email}
                    )
            except identity_checks.CodeRefused as refusal:
                messages.error(request, str(refusal))
        return redirect(f"{reverse('learners:confirm_identity')}?{urlencode({'next': back})}")
    form = ConfirmIdentityForm(
        request.POST if request.method == "POST" else None, user=request.user, request=request
    )
    if request.method == "POST" and form.is_valid():
        identity_checks.mark_confirmed(request)
        messages.success(request, _("Thank you: your identity is confirmed for ten minutes."))
        return redirect(back)
    return render(
        request,
        "learners/confirm_identity.html",
        {"form": form, "next": back, "code_sent": identity_checks.code_sent(request)},
    )


@never_cache
@login_required
@identity_confirmed(back_to="learners:my_data")
def export_data(request: HttpRequest) -> HttpResponse:
    # Streamed from a temporary file past a few megabytes: not held whole in memory.
    return FileResponse(
        exports.personal_data_archive(request.user),
        as_attachment=True,
        filename=f"campus-tiers-lieux-mes-donnees-{timezone.localdate().isoformat()}.zip",
        content_type="application/zip",
    )


@login_required
@identity_confirmed(unless_password=True)
def erase_account(request: HttpRequest) -> HttpResponse:
    form = EraseAccountForm(
        request.POST if request.method == "POST" else None, user=request.user, request=request
    )
    if request.method == "POST" and form.is_valid():
        services.erase_account(request.user)
        logout(request)
        messages.success(request, _("Your account has been deleted and your personal data erased."))
        return redirect("/")
    return render(request, "learners/erase_account.html", {"form": form})
