"""Wagtail admin of learners: each feature keeps its viewsets in its own module."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.snippets.models import register_snippet

from courses.models import LessonPage
from learners import (
    activity,
    organisation_admin,
    quality_admin,
    seat_admin,
    session_admin,
    wagtail_users,
)
from learners.models import Organisation
from learners.session_models import TrainingSession

# --- Training sessions: learners/session_admin.py ------------------------------------

register_snippet(session_admin.TrainingSessionViewSet)


@hooks.register("before_delete_snippet")
def refuse_deleting_sessions_with_attendance(request, instances):
    # The bulk « Delete » of the sessions' list runs this hook, not SessionDeleteView.
    sessions = [item for item in instances if isinstance(item, TrainingSession)]
    if sessions and (refusal := session_admin.deletion_refusal(sessions)):
        messages.error(request, refusal)
        return redirect("wagtailsnippets_learners_trainingsession:list")
    return None


@hooks.register("before_serve_page")
def record_lesson_opened(page, request, serve_args, serve_kwargs):
    # Proof that the online parts were followed: recorded by learners/page_cache.py
    # once the lesson is shown. These hooks run before Wagtail's view restrictions,
    # so a refused view must not count.
    if isinstance(page, LessonPage) and activity.tracked(request.user):
        request.learner_lesson_viewed = page.pk


# --- Organisations: learners/organisation_admin.py ------------------------------------

register_snippet(organisation_admin.OrganisationViewSet)


@hooks.register("before_delete_snippet")
def refuse_deleting_organisations_with_members(request, instances):
    # Its members would silently lose their manager and their manager her agents:
    # only an organisation nobody belongs to (a name typed in error) goes.
    refusal = organisation_admin.deletion_refusal(
        [item for item in instances if isinstance(item, Organisation)]
    )
    if refusal:
        messages.error(request, refusal)
        return redirect("wagtailsnippets_learners_organisation:list")
    return None


# --- Accommodation requests (Qualiopi 26): learners/accommodation_admin.py ---------------


@hooks.register("register_admin_viewset")
def register_accommodation_requests():
    from learners.accommodation_admin import AccommodationRequestViewSet

    return AccommodationRequestViewSet()


# --- Mails that could not be sent: learners/mail_admin.py ------------------------------


@hooks.register("register_admin_viewset")
def register_undelivered_mails():
    from learners.mail_admin import UndeliveredMailViewSet

    return UndeliveredMailViewSet()


# --- Satisfaction results and improvement log (Qualiopi 30, 32): learners/quality_admin.py ---

register_snippet(quality_admin.ImprovementActionViewSet)
hooks.register("register_admin_urls", quality_admin.admin_urls)
hooks.register("register_admin_urls", seat_admin.admin_urls)
hooks.register("register_admin_menu_item", quality_admin.results_menu_item)
# After Wagtail's own (order 0): same action type, so it replaces the bulk « Delete ».
hooks.register("register_bulk_action", wagtail_users.EraseUsersBulkAction, order=1)
hooks.register("register_bulk_action", wagtail_users.SetActiveStateBulkAction, order=1)
hooks.register("register_bulk_action", wagtail_users.AssignRoleBulkAction, order=1)


@hooks.register("register_log_actions")
def register_erasure(actions) -> None:
    # Who erased an account, and when, stays in the site history (the account's own
    # earlier entries lose its name: services.erase_account).
    actions.register_action("learners.erase", _("Erase"), _("Account erased"))
    actions.register_action(
        "learners.erase_unused",
        _("Erase after three years unused"),
        _("Account erased after three years unused"),
    )
