"""Quiz, positioning and submission boxes for courses' page templates and the dashboard.

courses must not import learners: its templates `{% load assessment_tags %}`.
"""

from django import template

from courses.models import ModulePage, TrackPage
from learners.assessments import positioning_advice, quiz_state
from learners.models import Attempt, Satisfaction, Submission
from learners.queries import covering_enrolment_in

register = template.Library()


@register.inclusion_tag("learners/quiz/includes/quiz_box.html", takes_context=True)
def quiz_box(context, page: ModulePage) -> dict:
    user = context.get("user")
    data = {"page": page, "user": user, "csrf_token": context.get("csrf_token")}
    if user is None or not user.is_authenticated:
        return data
    data["is_owner"] = page.owner_id == user.pk
    if page.has_quiz and covering_enrolment_in(context, user, page) is not None:
        data["state"] = quiz_state(user, page)
    # Offered at the end of every module, with or without a quiz (Qualiopi 30).
    # The module page's enrol button has already looked the completion up.
    completed = context.get("learner_completed_module")
    if completed is None:
        completed = page.completions.filter(learner=user).exists()
    data["survey_open"] = (
        completed and not Satisfaction.objects.filter(learner=user, module=page).exists()
    )
    return data


@register.inclusion_tag("learners/quiz/includes/positioning_box.html", takes_context=True)
def positioning_box(context, page: TrackPage) -> dict:
    user = context.get("user")
    data = {"page": page, "user": user}
    if user is None or not user.is_authenticated or not len(page.positioning):
        return data
    data["attempt"] = (
        Attempt.objects.positionings()
        .filter(learner=user, track=page)
        .only("pk", "status", "score")
        .first()
    )
    data["enrolled"] = page.enrolments.active().filter(learner=user).exists()
    if data["attempt"] is not None and not data["attempt"].is_open:
        modules = list(context.get("modules") or page.modules())
        advice = positioning_advice(user, page, modules)
        data["advice"] = [(module, advice.get(module.pk)) for module in modules]
    return data


@register.inclusion_tag("learners/quiz/includes/pending_submissions.html")
def pending_submissions(user) -> dict:
    return {
        "submissions": list(
            Submission.objects.filter(learner=user)
            .select_related("module", "competence", "level")
            .order_by("-submitted_at", "-pk")[:20]
        )
    }
