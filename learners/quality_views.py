"""Qualiopi indicator 30 and 32 pages: « à froid » answers, feedback, results.

The « à froid » survey and the funder's form need no login: their link is the
capability. A session someone may not give feedback on is a 404, never a 403.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from learners import cold_surveys, feedback, quality
from learners.quality_forms import ColdSurveyForm, FunderFeedbackForm, TrainerFeedbackForm
from learners.quality_models import ColdSurvey, Feedback, ImprovementAction
from learners.session_models import TrainingSession


def _posted(request: HttpRequest):
    # An empty POST is still a submission: it must show errors, not a blank form.
    return request.POST if request.method == "POST" else None


# --- « À froid » survey --------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def cold_survey(request: HttpRequest, token: str) -> HttpResponse:
    survey = get_object_or_404(ColdSurvey.objects.select_related("track"), token=token)
    form, just_answered = None, False
    if survey.answered_at is None:
        form = ColdSurveyForm(_posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                survey = cold_surveys.answer(survey, **form.cleaned_data)
                just_answered = True
            except cold_surveys.SurveyAlreadyAnswered:
                # Answered in another tab meanwhile: the first answer stands.
                survey.refresh_from_db()
    return render(
        request,
        "learners/quality/cold_survey.html",
        {"survey": survey, "form": form, "just_answered": just_answered},
    )


# --- Feedback ------------------------------------------------------------------------


def _feedback_page(
    request: HttpRequest, session: TrainingSession, form, respondent: str, editing: bool = False
) -> HttpResponse:
    headings = {
        Feedback.Respondent.TRAINER: _("Trainer feedback on a session"),
        Feedback.Respondent.FUNDER: _("Funder feedback on a session"),
    }
    context = {"session": session, "form": form, "respondent": respondent, "editing": editing}
    return render(
        request, "learners/quality/feedback.html", {**context, "heading": headings[respondent]}
    )


@login_required
@require_http_methods(["GET", "POST"])
def trainer_feedback(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_object_or_404(TrainingSession.objects.select_related("track"), pk=session_id)
    if not feedback.may_give_trainer_feedback(request.user, session):
        raise Http404
    instance = feedback.trainer_feedback_of(request.user, session)
    form = TrainerFeedbackForm(_posted(request), instance=instance)
    if request.method == "POST" and form.is_valid():
        feedback.save_trainer_feedback(form.save(commit=False))
        return render(request, "learners/quality/feedback_thanks.html", {"session": session})
    return _feedback_page(
        request, session, form, Feedback.Respondent.TRAINER, editing=instance.pk is not None
    )


@never_cache
@require_http_methods(["GET", "POST"])
def funder_feedback(request: HttpRequest, signed: str) -> HttpResponse:
    session_pk = feedback.session_pk_from_funder_token(signed)
    if session_pk is None:
        raise Http404
    session = get_object_or_404(TrainingSession.objects.select_related("track"), pk=session_pk)
    instance = feedback.funder_feedback_for(session)
    form = FunderFeedbackForm(_posted(request), instance=instance)
    if request.method == "POST" and form.is_valid():
        feedback.save_funder_feedback(form.save(commit=False))
        return render(request, "learners/quality/feedback_thanks.html", {"session": session})
    return _feedback_page(
        request, session, form, Feedback.Respondent.FUNDER, editing=instance.pk is not None
    )


# --- Results, in the Wagtail admin (staff only) --------------------------------------


# Learners' satisfaction and funders' and trainers' feedback: staff see them once
# granted this permission (superusers have it), not merely for being staff.
SEE_RESULTS = "learners.view_quality_results"


def can_see_results(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm(SEE_RESULTS)


def _require_staff(request: HttpRequest) -> None:
    if not can_see_results(request.user):
        raise PermissionDenied


def _add_action_url(track_pk: int, session_pk: int | None = None) -> str:
    params = {"track": track_pk, "source": ImprovementAction.Source.SATISFACTION}
    if session_pk:
        params["session"] = session_pk
    return reverse("wagtailsnippets_learners_improvementaction:add") + "?" + urlencode(params)


def results(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    track_results = quality.results()
    for item in track_results:
        item.rows = quality.table(item)
        item.add_action_url = _add_action_url(item.track.pk)
        for session_results in item.sessions:
            session_results.funder_url = feedback.funder_url(session_results.session)
            session_results.trainer_url = settings.SITE_URL + reverse(
                "learners:trainer_feedback", args=[session_results.session.pk]
            )
            session_results.add_action_url = _add_action_url(
                item.track.pk, session_results.session.pk
            )
    return TemplateResponse(
        request,
        "learners/admin/quality_results.html",
        {"track_results": track_results, "satisfied_from": quality.SATISFIED_FROM},
    )


def results_csv(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"satisfaction-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A byte order mark and semicolons: what French spreadsheets open correctly.
    response.write("\ufeff")
    quality.write_csv(response, quality.results())
    return response
