"""What courses' page templates show of a learner's journey.

courses must not import learners, so its templates load this library instead:
`{% load learners_tags %}` then `{% enrol_button page %}` or
`{% lesson_done_button page %}`.
"""

from django import template

from courses.models import ModulePage, TrackPage
from courses.routing import find_site
from learners import page_versions
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


class LearnerFragmentNode(template.Node):
    def __init__(self, nodelist, kind: str, page):
        self.nodelist, self.kind, self.page = nodelist, kind, page

    def render(self, context) -> str:
        request, user = context.get("request"), context.get("user")
        # A preview shows an editor's unsaved form: no version moves on with it.
        if (
            request is None
            or user is None
            or not user.is_authenticated
            or getattr(request, "is_preview", False)
        ):
            return self.nodelist.render(context)
        page = self.page.resolve(context) if self.page is not None else None

        def render(csrf_token: str) -> str:
            # Its links ({% pageurl %}) read the request's site: found once, from the cache.
            find_site(request)
            with context.push(csrf_token=csrf_token):
                return self.nodelist.render(context)

        return page_versions.cached_fragment(request, self.kind, getattr(page, "pk", None), render)


@register.tag
def learner_fragment(parser, token):
    """`{% learner_fragment "module" page %}…{% endlearner_fragment %}`: what a signed-in
    learner sees there, rendered once and kept until something it shows changes
    (learners/page_versions.py). Anonymous visitors get it rendered each time."""
    bits = token.split_contents()
    if len(bits) not in (2, 3) or bits[1][0] not in "\"'":
        raise template.TemplateSyntaxError("learner_fragment takes a quoted kind and a page")
    nodelist = parser.parse(("endlearner_fragment",))
    parser.delete_first_token()
    page = parser.compile_filter(bits[2]) if len(bits) == 3 else None
    return LearnerFragmentNode(nodelist, bits[1][1:-1], page)


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
        # The quiz box below (assessment_tags) reads both rather than asking again.
        context["learner_completed_module"] = page.pk in completed
        # Whether or not the module is completed: a retake of its quiz needs them all.
        context["learner_missing_prerequisites"] = [
            p for p in prerequisites if p.pk not in completed
        ]
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
    # `not module`: the lesson page hands its module over lazily, None included.
    if user is None or not user.is_authenticated or not module:
        return data
    enrolment = covering_enrolment_in(context, user, module)
    if enrolment is None:
        data.update(module=module, enrolled=False)
        return data
    progress = module_progress(user, module)
    done = lesson.pk in progress.done_ids
    previous, following = progress.around(lesson)
    data.update(
        module=module,
        enrolled=True,
        done=done,
        progress=progress,
        previous=previous,
        following=following,
        missing=[] if done or progress.completed else missing_prerequisites(user, module),
    )
    return data


@register.simple_tag
def competence_chart(block_state, framework_map):
    return block_chart(block_state, framework_map.levels, framework_map.framework.target_level_rank)
