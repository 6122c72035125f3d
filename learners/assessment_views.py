"""Quiz, positioning, grading, satisfaction and item analysis pages.

Another learner's attempt or submission is a 404, never a 403.
"""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courses.models import Level, ModulePage, TrackPage
from learners import assessments
from learners.assessment_models import grades_any_submission
from learners.models import Attempt, Submission, User
from learners.services import JourneyRefused


def _is_trainer(user: User) -> bool:
    return user.role == User.Role.TRAINER or user.is_staff


def _live_module(module_id: int) -> ModulePage:
    return get_object_or_404(ModulePage.objects.live().public(), pk=module_id)


def _own_attempt(request: HttpRequest, attempt_id: int, related=("module", "track")) -> Attempt:
    attempt = get_object_or_404(
        Attempt.objects.select_related(*related), pk=attempt_id, learner=request.user
    )
    attempt.learner = request.user
    return attempt


# --- Quiz ------------------------------------------------------------------------


@login_required
def quiz_start(request: HttpRequest, module_id: int) -> HttpResponse:
    module = _live_module(module_id)
    if not module.has_quiz:
        raise Http404
    if request.method == "POST":
        try:
            attempt = assessments.start_attempt(request.user, module)
        except JourneyRefused as refusal:
            messages.error(request, str(refusal))
            return redirect("learners:quiz_start", module_id=module.pk)
        if not attempt.is_open:
            messages.error(request, _("The time limit of your attempt has passed."))
            return redirect("learners:quiz_result", attempt_id=attempt.pk)
        return redirect("learners:quiz_take", attempt_id=attempt.pk)
    state = assessments.quiz_state(request.user, module)
    return render(
        request,
        "learners/quiz/start.html",
        {
            "module": module,
            "state": state,
            "refusal": state.refusal(),
            "minutes": assessments.allowed_minutes(module, request.user.pk),
        },
    )


@login_required
def quiz_take(request: HttpRequest, attempt_id: int) -> HttpResponse:
    # A quiz has a module and no track: joining the track's page costs CPU for nothing.
    attempt = _own_attempt(request, attempt_id, related=("module",))
    if attempt.kind != Attempt.Kind.QUIZ:
        raise Http404
    late = request.method != "POST" and attempt.is_open
    if late and assessments.expire_if_late(attempt, timezone.now()):
        # A page left open past its time, or come back to: nothing can be sent any more.
        messages.error(
            request, _("Time ran out before your answers were sent: this attempt is closed.")
        )
    if not attempt.is_open:
        if request.method == "POST":
            messages.error(request, _("This attempt has already been submitted."))
        return redirect("learners:quiz_result", attempt_id=attempt.pk)
    errors: dict[str, str] = {}
    data = None
    if request.method == "POST":
        try:
            answers, uploads, errors = assessments.answers_from_form(
                attempt, request.POST, request.FILES
            )
            if not errors:
                sent = assessments.sent_answer_files(attempt, request.FILES)
                assessments.submit_attempt(attempt, answers, uploads, sent_files=sent)
                if assessments.sent_when_time_was_up(attempt, request.POST):
                    # The page sent itself: said on the result, where the learner lands.
                    messages.info(request, _("Time was up: your answers were sent automatically."))
                return redirect("learners:quiz_result", attempt_id=attempt.pk)
        except assessments.AssessmentRefused as refusal:
            messages.error(request, str(refusal))
            attempt.refresh_from_db()
            if not attempt.is_open:
                return redirect("learners:quiz_result", attempt_id=attempt.pk)
            return redirect("learners:quiz_take", attempt_id=attempt.pk)
        data = request.POST
    seconds_left = None
    if attempt.deadline is not None:
        seconds_left = max(0, round((attempt.deadline - timezone.now()).total_seconds()))
    return render(
        request,
        "learners/quiz/take.html",
        {
            "attempt": attempt,
            "module": attempt.module,
            "questions": assessments.public_questions(
                attempt, data, errors, request.FILES if data is not None else None
            ),
            "errors": errors,
            "seconds_left": seconds_left,
        },
        status=400 if errors else 200,
    )


@login_required
def quiz_result(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _own_attempt(request, attempt_id)
    if attempt.is_open:
        return redirect("learners:quiz_take", attempt_id=attempt.pk)
    passed_before = (
        attempt.kind == Attempt.Kind.QUIZ
        and Attempt.objects.quizzes()
        .filter(learner=request.user, module=attempt.module_id, passed=True)
        .exists()
    )
    show = assessments.feedback_visible(attempt, passed_before)
    return render(
        request,
        "learners/quiz/result.html",
        {
            "attempt": attempt,
            "module": attempt.module,
            "show_feedback": show,
            "review": assessments.attempt_review(attempt) if show else [],
            "state": assessments.quiz_state(request.user, attempt.module)
            if attempt.module
            else None,
        },
    )


# --- Positioning -----------------------------------------------------------------


@login_required
def positioning(request: HttpRequest, track_id: int) -> HttpResponse:
    track = get_object_or_404(TrackPage.objects.live().public(), pk=track_id)
    try:
        attempt = assessments.start_positioning(request.user, track)
    except JourneyRefused as refusal:
        messages.error(request, str(refusal))
        return redirect(track.get_url(request) or "/")
    if not attempt.is_open:
        return redirect("learners:quiz_result", attempt_id=attempt.pk)
    blocks = assessments.blocks_of(track)
    errors, self_errors, data = {}, {}, None
    if request.method == "POST":
        try:
            answers, _uploads, errors = assessments.answers_from_form(
                attempt, request.POST, request.FILES
            )
            ratings, self_errors = assessments.self_assessment_from_form(track, request.POST)
            if not errors and not self_errors:
                assessments.submit_positioning(attempt, answers, ratings)
                return redirect("learners:quiz_result", attempt_id=attempt.pk)
        except assessments.AssessmentRefused as refusal:
            messages.error(request, str(refusal))
            return redirect("learners:positioning", track_id=track.pk)
        data = request.POST
    return render(
        request,
        "learners/quiz/positioning.html",
        {
            "attempt": attempt,
            "track": track,
            "questions": assessments.public_questions(attempt, data, errors),
            "errors": errors,
            "self_errors": self_errors,
            "blocks": [
                {"block": b, "value": data.get(f"self-{b.code}", "") if data else ""}
                for b in blocks
            ],
            "scale": ["1", "2", "3", "4"],
        },
        status=400 if errors or self_errors else 200,
    )


# --- Grading ---------------------------------------------------------------------


def _trainer_or_404(user: User) -> None:
    if not _is_trainer(user):
        raise Http404


@login_required
def grading_queue(request: HttpRequest) -> HttpResponse:
    _trainer_or_404(request.user)
    return render(
        request,
        "learners/quiz/grading_queue.html",
        {
            "submissions": assessments.grading_queue(request.user),
            "recent": assessments.recent_gradings(request.user),
            "recent_days": assessments.RECENT_GRADINGS_DAYS,
            "recent_shown": assessments.RECENT_GRADINGS_SHOWN,
            "team": grades_any_submission(request.user),
        },
    )


@login_required
def grade(request: HttpRequest, submission_id: int) -> HttpResponse:
    _trainer_or_404(request.user)
    submission = get_object_or_404(
        Submission.objects.gradable_by(request.user).select_related(
            "learner", "module", "competence__block", "graded_by", "level", "attempt"
        ),
        pk=submission_id,
    )
    levels = list(Level.objects.filter(framework_id=submission.competence.block.framework_id))
    aimed = next((lv for lv in levels if lv.pk == submission.aimed_level_id), None)
    error = ""
    decision = comment = reason = error_field = None
    level = None
    correcting = False
    if request.method == "POST":
        decision = request.POST.get("decision")
        level = next((lv for lv in levels if str(lv.pk) == request.POST.get("level")), None)
        comment = request.POST.get("comment", "").strip()
        if request.POST.get("action") == "correct":
            reason = request.POST.get("reason", "").strip()
            error, error_field = _correct(request, submission, decision, level, comment, reason)
            if not error:
                messages.success(request, _("Your correction has been recorded."))
                return redirect("learners:grade", submission_id=submission.pk)
            correcting = True
        elif submission.status != Submission.Status.PENDING:
            error = _already_graded(submission)
        elif decision not in {"validated", "rework"}:
            error = _("Choose « validated » or « to be reworked ».")
        else:
            try:
                assessments.grade_submission(
                    request.user,
                    submission,
                    validated=decision == "validated",
                    level=level,
                    comment=comment,
                )
            except assessments.AssessmentRefused as refusal:
                error = str(refusal)
                # Another tab or a double click won the race: say who, and when.
                try:
                    submission.refresh_from_db()
                except Submission.DoesNotExist:
                    # The learner erased their account meanwhile: nothing is left to grade.
                    messages.error(
                        request, _("This answer no longer exists: its author erased their account.")
                    )
                    return redirect("learners:grading_queue")
                if submission.status != Submission.Status.PENDING:
                    error = _already_graded(submission)
            else:
                messages.success(request, _("Your grading has been recorded."))
                return redirect("learners:grading_queue")
    # A refused review comes back as the trainer left it: a long comment is not retyped,
    # and once the submission is graded, what they typed is quoted to be copied.
    unsaved = bool(error) and submission.status != Submission.Status.PENDING and not correcting
    if correcting:
        # The field the refusal is about, and no other: the summary links to it.
        decision_missing = error_field == "decision"
        level_missing = error_field == "level"
        reason_missing = error_field == "reason"
    else:
        decision_missing = bool(error) and not unsaved and decision not in {"validated", "rework"}
        level_missing = bool(error) and not unsaved and decision == "validated" and level is None
        reason_missing = False
    chosen = {
        "decision": decision,
        "level": level,
        "comment": comment or "",
        "reason": reason or "",
    }
    return render(
        request,
        "learners/quiz/grade.html",
        {
            "submission": submission,
            "levels": levels,
            "aimed": aimed,
            "error": error,
            "decision_missing": decision_missing,
            "level_missing": level_missing,
            "chosen": chosen,
            "unsaved": unsaved,
            "may_correct": submission.status != Submission.Status.PENDING
            and submission.learner.erased_at is None,
            "correction": chosen
            if correcting
            else {
                "decision": submission.status,
                "level": submission.level,
                "comment": submission.comment,
                "reason": "",
            },
            "corrections": submission.corrections.select_related(
                "corrected_by", "previous_level", "previous_graded_by"
            ),
            "correcting": correcting,
            "reason_missing": reason_missing,
        },
        status=400 if error else 200,
    )


def _correct(
    request: HttpRequest,
    submission: Submission,
    decision: str | None,
    level: Level | None,
    comment: str,
    reason: str,
) -> tuple[str, str | None]:
    """Record a correction of the grading: ("", None), or the error and the field it is about."""
    if decision not in {"validated", "rework"}:
        return _("Choose « validated » or « to be reworked »."), "decision"
    try:
        seen = datetime.fromisoformat(request.POST.get("graded_at", ""))
    except ValueError:
        seen = None
    try:
        assessments.correct_grading(
            request.user,
            submission,
            validated=decision == "validated",
            level=level,
            comment=comment,
            reason=reason,
            graded_at=seen,
        )
    except assessments.AssessmentRefused as refusal:
        # Shown with the grading as it now stands (another tab may have corrected it).
        try:
            submission.refresh_from_db()
        except Submission.DoesNotExist:
            raise Http404 from None
        return str(refusal), refusal.field
    return "", None


def _already_graded(submission: Submission) -> str:
    return _(
        "This submission was already reviewed by %(name)s on %(date)s. "
        "Your review was not recorded: what you typed is quoted below."
    ) % {
        "name": submission.graded_by.display_name if submission.graded_by else "—",
        "date": date_format(timezone.localtime(submission.graded_at), "SHORT_DATETIME_FORMAT")
        if submission.graded_at
        else "—",
    }


@login_required
def submission_file(request: HttpRequest, submission_id: int) -> FileResponse:
    submission = get_object_or_404(Submission, pk=submission_id)
    allowed = submission.learner_id == request.user.pk or (
        _is_trainer(request.user)
        and Submission.objects.gradable_by(request.user).filter(pk=submission.pk).exists()
    )
    if not allowed or not submission.file:
        raise Http404
    # Always a download with the checked type: the browser never renders it inline.
    response = FileResponse(
        submission.file.open("rb"),
        as_attachment=True,
        filename=f"piece-{submission.pk}.{submission.file.name.rsplit('.', 1)[-1]}",
        content_type=submission.file_type or "application/octet-stream",
    )
    # A learner's work, opened on a shared computer of a tiers-lieu: kept by no cache.
    response["Cache-Control"] = "private, no-store"
    return response


# --- Satisfaction and item analysis ----------------------------------------------


@login_required
@require_POST
def satisfaction(request: HttpRequest, module_id: int) -> HttpResponse:
    module = _live_module(module_id)
    if not module.completions.filter(learner=request.user).exists():
        messages.error(request, _("The survey opens once you have completed the module."))
        return redirect(module.get_url(request) or "/")
    try:
        rating = int(request.POST.get("rating", ""))
        _row, created = assessments.record_satisfaction(
            request.user, module, rating, request.POST.get("comment", "")
        )
    except (ValueError, assessments.AssessmentRefused):
        messages.error(request, _("Choose a rating between 1 and 5."))
    else:
        if created:
            messages.success(request, _("Thank you for your answer."))
        else:
            messages.info(request, _("You had already answered this survey."))
    return redirect(module.get_url(request) or "/")


def _owned_module(request: HttpRequest, module_id: int) -> ModulePage:
    _trainer_or_404(request.user)
    return get_object_or_404(ModulePage, pk=module_id, owner=request.user)


@login_required
def module_results(request: HttpRequest, module_id: int) -> HttpResponse:
    module = _owned_module(request, module_id)
    return render(
        request,
        "learners/quiz/module_results.html",
        {
            "module": module,
            "satisfaction": assessments.satisfaction_summary(module),
            "items": assessments.item_analysis(module),
            "min_answers": assessments.ITEM_ANALYSIS_MIN_ANSWERS,
            "satisfaction_min": assessments.SATISFACTION_MIN_ANSWERS,
        },
    )
