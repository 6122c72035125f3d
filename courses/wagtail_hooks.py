"""Wagtail admin registration for the courses app."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, router, transaction
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic import DeleteView, IndexView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets import ListingButton
from wagtail.log_actions import LogFormatter
from wagtail.models import Page

from courses import admin_views, scheduled_publishing
from courses.models import (
    Block,
    Competence,
    CompetenceCrosswalk,
    Framework,
    Level,
    ModulePage,
    TrackPage,
)

# Deleting what records depend on --------------------------------------------------
# Learners' evidence, attempts, completions and certificates, and the modules that
# target a competence, protect what they point at (on_delete=PROTECT): the delete
# fails in the database. Say so, with what depends on it, instead of an error page.


def _what_depends_on(objects) -> list[str]:
    """The kinds of rows that forbid deleting `objects`, empty when nothing does."""
    by_model = {}
    for row in objects:
        by_model.setdefault(type(row), []).append(row)
    collector = Collector(using=router.db_for_write(type(objects[0])))
    try:
        for rows in by_model.values():  # the collector takes one model at a time
            collector.collect(rows)
    except (ProtectedError, RestrictedError) as refusal:
        found = getattr(refusal, "protected_objects", None) or refusal.restricted_objects
        return sorted({str(row._meta.verbose_name_plural) for row in found})
    return []


def _refusal(name, kinds: list[str]) -> str:
    return _(
        "« %(name)s » cannot be deleted: records depend on it (%(kinds)s). "
        "Unpublish or keep it instead: the records stay valid."
    ) % {"name": name, "kinds": ", ".join(kinds)}


def _framework_part_refusal(name, kinds: list[str]) -> str:
    # Nothing of a framework is unpublished: what replaces it is a new version.
    return _(
        "« %(name)s » cannot be deleted: records depend on it (%(kinds)s). Keep it, so "
        "that they stay valid; to change the framework, create a new version of it."
    ) % {"name": name, "kinds": ", ".join(kinds)}


class GuardedDeleteView(DeleteView):
    def form_valid(self, form):
        kinds = _what_depends_on([self.object])
        if kinds:
            messages.error(self.request, _framework_part_refusal(self.object, kinds))
            return redirect(self.get_success_url())
        with transaction.atomic():
            return super().form_valid(form)


@hooks.register("before_delete_page")
def refuse_deleting_pages_records_depend_on(request, page):
    kinds = _what_depends_on(list(page.get_descendants(inclusive=True).specific()))
    if kinds:
        messages.error(request, _refusal(page.title, kinds))
        return redirect("wagtailadmin_pages:edit", page.pk)
    return None


# Frameworks (référentiels) ------------------------------------------------------
# Only holders of the model permissions on frameworks (superusers, or a group the
# operating team gives them) see and change these; trainers get admin access only.


class FrameworkIndexView(IndexView):
    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if admin_views.can_manage_frameworks(self.request.user):
            buttons.append(
                ListingButton(
                    _("New version"),
                    url=reverse("courses_framework_new_version", args=[instance.pk]),
                    icon_name="copy",
                    priority=30,
                )
            )
        return buttons


class FrameworkViewSet(ModelViewSet):
    delete_view_class = GuardedDeleteView
    pk_path_converter = "pk"  # ids past 64 bits: a 404, not a 500 (config/converters.py)
    name = "frameworks"
    url_namespace = "courses_framework"
    model = Framework
    index_view_class = FrameworkIndexView
    icon = "list-ul"
    menu_label = _("Frameworks")
    list_display = ["code", "version", "title", "status", "awarding_body"]
    list_filter = ["status", "code"]
    search_fields = ["code", "title"]
    form_fields = [
        "code",
        "version",
        "title",
        "status",
        "kind",
        "awarding_body",
        "note",
        "target_level_rank",
        "previous_version",
        "sources",
        "specialisations",
    ]

    def formfield_for_dbfield(self, db_field, **kwargs):
        if db_field.name in {"sources", "specialisations"}:
            kwargs["form_class"] = admin_views.TextListField
        return super().formfield_for_dbfield(db_field, **kwargs)


class LevelViewSet(ModelViewSet):
    delete_view_class = GuardedDeleteView
    pk_path_converter = "pk"
    name = "levels"
    url_namespace = "courses_level"
    model = Level
    icon = "order"
    menu_label = _("Levels")
    list_display = ["framework", "rank", "code", "label"]
    list_filter = ["framework"]
    search_fields = ["code", "label"]
    form_fields = ["framework", "rank", "code", "label", "descriptor"]


class BlockViewSet(ModelViewSet):
    delete_view_class = GuardedDeleteView
    pk_path_converter = "pk"
    name = "blocks"
    url_namespace = "courses_block"
    model = Block
    icon = "folder-open-1"
    menu_label = _("Blocks")
    list_display = ["code", "title", "framework", "order"]
    list_filter = ["framework"]
    search_fields = ["code", "title"]
    form_fields = ["framework", "code", "title", "description", "order"]


class CompetenceViewSet(ModelViewSet):
    delete_view_class = GuardedDeleteView
    pk_path_converter = "pk"
    name = "competences"
    url_namespace = "courses_competence"
    model = Competence
    icon = "tick-inverse"
    menu_label = _("Competences")
    list_display = ["code", "title", "block"]
    list_filter = ["block__framework", "block"]
    search_fields = ["code", "title"]
    form_fields = ["block", "code", "title", "description", "external_uri", "order"]

    def get_queryset(self, request):
        return Competence.objects.select_related("block__framework")

    def formfield_for_dbfield(self, db_field, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, **kwargs)


class CrosswalkViewSet(ModelViewSet):
    delete_view_class = GuardedDeleteView
    pk_path_converter = "pk"
    name = "crosswalks"
    url_namespace = "courses_crosswalk"
    model = CompetenceCrosswalk
    icon = "arrow-right-full"
    menu_label = _("Crosswalks")
    list_display = ["source", "target"]
    list_filter = ["target__block__framework", "source__block__framework"]
    search_fields = ["source__code", "target__code"]
    form_fields = ["source", "target"]

    def get_queryset(self, request):
        return CompetenceCrosswalk.objects.select_related("source", "target")


class FrameworksGroup(ModelViewSetGroup):
    menu_label = _("Skills frameworks")
    menu_icon = "list-ul"
    menu_order = 250
    items = (FrameworkViewSet, LevelViewSet, BlockViewSet, CompetenceViewSet, CrosswalkViewSet)
    submenu_hook = "register_frameworks_menu_item"


@hooks.register("register_admin_viewset")
def register_frameworks_viewsets():
    return FrameworksGroup()


class FrameworkImportMenuItem(MenuItem):
    def is_shown(self, request):
        return admin_views.can_manage_frameworks(request.user)


@hooks.register("register_frameworks_menu_item")
def register_framework_import_menu_item():
    return FrameworkImportMenuItem(
        _("Import a file"),
        reverse("courses_framework_import"),
        icon_name="upload",
        name="framework-import",
        order=900,
    )


@hooks.register("register_admin_urls")
def register_framework_admin_urls():
    return [
        path(
            "frameworks/import/",
            admin_views.import_frameworks_view,
            name="courses_framework_import",
        ),
        path(
            "frameworks/<pk:pk>/new-version/",
            admin_views.new_version_view,
            name="courses_framework_new_version",
        ),
    ]


# Authoring ------------------------------------------------------------------------
# Wagtail's "add" permission on the catalogue lets a trainer add pages anywhere
# below it. Modules are the trainers' own: a lesson goes only under a module its
# author owns, unless the user may publish there (the moderation team).


def _may_add_below(user, parent_page) -> bool:
    if user.is_superuser or parent_page.owner_id == user.pk:
        return True
    return parent_page.permissions_for_user(user).can_publish()


def _refuse_below_someone_elses_module(user, parent_page) -> None:
    if parent_page.specific_class is ModulePage and not _may_add_below(user, parent_page):
        raise PermissionDenied


def _track_refusal(user, page_class, parent_page) -> str | None:
    """Tracks are the training offer the operating team answers for (prices, durations,
    Qualiopi facts): trainers write modules inside them, and only those who may
    publish on the catalogue open one."""
    if page_class is None or not issubclass(page_class, TrackPage):
        return None
    if _may_add_below(user, parent_page):
        return None
    return _(
        "Only the operating team opens a track: ask them to create it, then write your "
        "modules inside it."
    )


@hooks.register("before_create_page")
def refuse_lessons_under_someone_elses_module(request, parent_page, page_class):
    _refuse_below_someone_elses_module(request.user, parent_page)
    if refusal := _track_refusal(request.user, page_class, parent_page):
        messages.error(request, refusal)
        return redirect("wagtailadmin_explore", parent_page.pk)
    return None


def _framework_refusal(page, destination) -> str | None:
    """Why a module cannot go under this track: its targets or level are of another framework.

    The edit form checks them against the module's track; a move changes the track.
    """
    if page.specific_class is not ModulePage or destination.specific_class is not TrackPage:
        return None
    module, track = page.specific, destination.specific
    targets = module.targets.select_related("competence__block__framework")
    level_error = ModulePage.level_error(module.level, track)
    problems = ModulePage.target_errors(targets, track) + ([level_error] if level_error else [])
    if not problems:
        return None
    return _("« %(title)s » cannot move under « %(track)s »: %(problems)s") % {
        "title": module.title,
        "track": track.title,
        "problems": " ".join(problems),
    }


@hooks.register("before_bulk_action")
def refuse_bulk_moving_pages_under_someone_elses_module(request, action_type, objects, action):
    # Wagtail's bulk move checks `can_move_to` only, which the catalogue's « add » grants.
    if action_type != "move":
        return None
    destination = action.cleaned_form.cleaned_data.get("chooser")
    if destination is None:
        return None
    _refuse_below_someone_elses_module(request.user, destination)
    refused = [
        refusal
        for page in objects
        if isinstance(page, Page) and (refusal := _framework_refusal(page, destination))
    ]
    for refusal in refused:
        messages.error(request, refusal)
    return redirect(action.next_url) if refused else None


# Moving or copying a page is adding it under its new parent: the same rules hold.
def _refuse_under(request, page, destination, back_to: str):
    """PermissionDenied below someone else's module; a page back to `back_to` with the
    reason when a module's competences are not the new track's framework's."""
    _refuse_below_someone_elses_module(request.user, destination)
    refusal = _framework_refusal(page, destination)
    if refusal:
        messages.error(request, refusal)
        return redirect(back_to, page.pk)
    return None


@hooks.register("before_move_page")
def refuse_moving_pages_under_someone_elses_module(request, page_to_move, destination):
    return _refuse_under(request, page_to_move, destination, "wagtailadmin_pages:move")


@hooks.register("before_copy_page")
def refuse_copying_pages_under_someone_elses_module(request, page):
    if request.method != "POST":
        return
    chosen = request.POST.get("new_parent_page", "")
    # Wagtail's own form refuses what is not a page; an id past 64 bits must not reach SQL.
    if not (chosen.isascii() and chosen.isdigit() and len(chosen) < 19):
        return
    destination = Page.objects.filter(pk=int(chosen)).first()
    if destination is None:
        return None
    return _refuse_under(request, page, destination, "wagtailadmin_pages:copy")


# Publishing ---------------------------------------------------------------------
# The edit form validates a module before publishing it; bulk publishing takes the
# latest revision as it is, and a draft may keep a question half written (Wagtail
# defers required fields for drafts). ModulePage.clean_fields refuses it anyway
# when the page is saved live: this says so to the person instead of an error page.


@hooks.register("before_bulk_action")
def refuse_bulk_deleting_pages_records_depend_on(request, action_type, objects, action):
    if action_type != "delete":
        return None
    refused = []
    for page in objects:
        if isinstance(page, Page):
            kinds = _what_depends_on(list(page.get_descendants(inclusive=True).specific()))
            if kinds:
                refused.append(_refusal(page.title, kinds))
    for refusal in refused:
        messages.error(request, refusal)
    return redirect(action.next_url) if refused else None


@hooks.register("before_bulk_action")
def refuse_bulk_publishing_modules_that_do_not_validate(request, action_type, objects, action):
    if action_type != "publish":
        return None
    pages = [page for page in objects if isinstance(page, Page)]
    # Tracks too: their positioning questions are checked as a module's quiz is.
    checked = (ModulePage, TrackPage)
    modules = [page for page in pages if page.specific_class in checked]
    if action.cleaned_form.cleaned_data.get("include_descendants"):
        for page in pages:
            modules.extend(page.get_descendants().not_live().type(*checked))
    refused = []
    for module in modules:
        revision = module.get_latest_revision()
        draft = revision.as_object() if revision is not None else module.specific
        try:
            draft.full_clean()
        except ValidationError as error:
            refused.append((draft.title, error.messages))
    for title, problems in refused:
        messages.error(
            request,
            _("Nothing was published: « %(title)s » has errors: %(problems)s")
            % {"title": title, "problems": " ".join(problems)},
        )
    return redirect(action.next_url) if refused else None


class PublicationRefusedFormatter(LogFormatter):
    label = _("Scheduled publication refused")

    def format_message(self, log_entry) -> str:
        return _("Scheduled publication refused: %(reasons)s") % {
            "reasons": log_entry.data.get("reasons", "")
        }


@hooks.register("register_log_actions")
def register_refused_publication(actions) -> None:
    # A revision whose checks refused it at its go-live time says why in the history.
    actions.register_action(scheduled_publishing.REFUSED_ACTION)(PublicationRefusedFormatter)
