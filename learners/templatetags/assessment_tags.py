"""Quiz, positioning and submission boxes for courses' page templates and the dashboard.

courses must not import learners: its templates `{% load assessment_tags %}`.
"""

from decimal import Decimal, InvalidOperation

from django import template
from django.db.models import Exists, OuterRef, Subquery
from django.utils.formats import number_format

from courses.models import ModulePage, TrackPage
from learners.assessments import positioning_advice, quiz_state
from learners.models import Attempt, GradingCorrection, Satisfaction, Submission
from learners.queries import covering_enrolment_in

register = template.Library()


@register.inclusion_tag("learners/quiz/includes/quiz_box.html", takes_context=True)
def quiz_box(context, page: ModulePage) -> dict:
    user = context.get("user")
    data = {
        "page": page,
        "user": user,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }
    if user is None or not user.is_authenticated:
        return data
    data["is_owner"] = page.owner_id == user.pk
    if page.has_quiz and covering_enrolment_in(context, user, page) is not None:
        # The module page's enrol button has looked them up; elsewhere, with no
        # prerequisites listed, there is nothing missing to look up.
        missing = context.get("learner_missing_prerequisites")
        prerequisites = context.get("prerequisites")
        if missing is None and prerequisites is not None and not list(prerequisites):
            missing = []
        data["state"] = quiz_state(user, page, missing=missing)
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
    """The learner's work awaiting review, apart from the latest reviews and their comments:
    graded work listed as « pending » misleads, and a request for rework is news."""
    mine = Submission.objects.filter(learner=user).select_related("module", "competence", "level")
    # A rectified grading says so, when and why, if the learner was told something else
    # first: one corrected before she was told is simply her grading (as the mail says).
    latest_correction = GradingCorrection.objects.filter(
        submission=OuterRef("pk"), learner_was_told=True
    ).order_by("-corrected_at", "-pk")
    # A rework is sent through a new attempt; a later pass settles it (as
    # queries.answers_to_rework), after which the way to it is no longer shown.
    later_pass = Attempt.objects.quizzes().filter(
        learner=user,
        module=OuterRef("module"),
        passed=True,
        submitted_at__gt=OuterRef("attempt__submitted_at"),
    )
    graded = mine.exclude(status=Submission.Status.PENDING).annotate(
        corrected_at=Subquery(latest_correction.values("corrected_at")[:1]),
        correction_reason=Subquery(latest_correction.values("reason")[:1]),
        settled_since=Exists(later_pass),
    )
    return {
        "pending": list(mine.pending().order_by("-submitted_at", "-pk")[:20]),
        "graded": list(graded.order_by("-graded_at", "-pk")[:10]),
    }


@register.filter
def human_number(value):
    """A number as a person writes it in the active language: « 120 000 », « 1 800,5 ».

    Frozen questions keep floats (120000.0): printed as they are, they read
    « 120000,0 ». Through their shortest decimal form, 0.1 stays 0,1.
    """
    try:
        number = Decimal(str(value))
        if not number.is_finite():
            return value
        if number == number.to_integral_value():
            number = number.quantize(Decimal(1))  # no « ,0 », and never « 1E+5 »
        else:
            number = number.normalize()  # no trailing zeros
    except (InvalidOperation, ValueError):
        return value  # not a number, infinite, or too long to matter
    return number_format(number, force_grouping=True)


@register.filter
def picked_texts(options) -> list[str]:
    """The texts of the options the learner ticked, in the order shown."""
    return [option["text"] for option in options if option.get("picked")]
