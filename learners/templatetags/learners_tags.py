"""What courses' page templates show of a learner's journey.

courses must not import learners, so its templates load this library instead:
`{% load learners_tags %}` then `{% enrol_button page %}` or
`{% lesson_done_button page %}`.
"""

from django import template

from courses.models import ModulePage, TrackPage
from learners.charts import block_chart
from learners.models import Enrolment, ModuleCompletion
from learners.queries import (
    covering_enrolment_in,
    missing_prerequisites,
    module_progress,
    modules_progress,
    track_progress,
)

register = template.Library()


def _base(context, page) -> dict:
    return {
        "page": page,
        "request": context.get("request"),
        "user": context.get("user"),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("learners/includes/enrol_button.html", takes_context=True)
def enrol_button(context, page: TrackPage | ModulePage) -> dict:
    data = _base(context, page)
    data["is_track"] = is_track = isinstance(page, TrackPage)
    user = data["user"]
    if user is None or not user.is_authenticated:
        return data
    if is_track:
        enrolment = Enrolment.objects.active().filter(learner=user, track=page).first()
        # Reusing the page's own queryset means the module list below is not queried twice.
        progress = track_progress(user, page, modules=context.get("modules")) if enrolment else None
        missing = [] if progress and progress.completed else missing_prerequisites(user, page)
    else:
        enrolment = covering_enrolment_in(context, user, page)
        # The page's context already holds its lessons and prerequisites: iterating
        # the same querysets here fills their caches, so the page reads them once.
        prerequisites = context.get("prerequisites")
        if prerequisites is None:
            prerequisites = page.prerequisite_modules.live().order_by("path")
        prerequisites = list(prerequisites)
        completed = set(
            ModuleCompletion.objects.filter(
                learner=user, module_id__in=[page.pk, *(p.pk for p in prerequisites)]
            ).values_list("module_id", flat=True)
        )
        missing = (
            [] if page.pk in completed else [p for p in prerequisites if p.pk not in completed]
        )
        # The quiz box below (assessment_tags) reads it rather than asking again.
        context["learner_completed_module"] = page.pk in completed
        progress = None
        if enrolment:
            (progress,) = modules_progress(
                user, [page], lessons=context.get("lessons"), completed_ids=completed
            )
    data.update(
        enrolment=enrolment,
        # Only a direct enrolment can be left from here; a module followed through
        # its track is left with the track.
        direct=enrolment is not None
        and (enrolment.track_id if is_track else enrolment.module_id) == page.pk,
        progress=progress,
        missing=missing,
    )
    return data


@register.inclusion_tag("learners/includes/lesson_done_button.html", takes_context=True)
def lesson_done_button(context, lesson) -> dict:
    data = _base(context, lesson)
    user, module = data["user"], context.get("module")
    if user is None or not user.is_authenticated or module is None:
        return data
    enrolment = covering_enrolment_in(context, user, module)
    if enrolment is None:
        data.update(module=module, enrolled=False)
        return data
    progress = module_progress(user, module)
    done = lesson.pk in progress.done_ids
    data.update(
        module=module,
        enrolled=True,
        done=done,
        progress=progress,
        missing=[] if done or progress.completed else missing_prerequisites(user, module),
    )
    return data


@register.simple_tag
def competence_chart(block_state, framework_map):
    return block_chart(block_state, framework_map.levels, framework_map.framework.target_level_rank)
