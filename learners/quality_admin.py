"""Wagtail admin of the quality record: satisfaction results (Qualiopi 30) and the
improvement log (Qualiopi 32), for staff only. Registered from wagtail_hooks.py."""

from django.core.exceptions import ValidationError
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.views.snippets import CreateView, IndexView, SnippetViewSet

from learners import quality_views
from learners.quality_models import ImprovementAction
from learners.session_models import TrainingSession

# --- Results page ----------------------------------------------------------------------


def admin_urls():
    return [
        path("qualite/satisfaction/", quality_views.results, name="learners_quality_results"),
        path(
            "qualite/satisfaction.csv",
            quality_views.results_csv,
            name="learners_quality_results_csv",
        ),
    ]


class StaffMenuItem(MenuItem):
    def is_shown(self, request):
        return quality_views.can_see_results(request.user)


def results_menu_item() -> MenuItem:
    return StaffMenuItem(
        _("Satisfaction results"),
        reverse("learners_quality_results"),
        icon_name="tasks",
        order=255,
    )


# --- Improvement log -------------------------------------------------------------------

MAX_ID = 2**63 - 1  # a bigint, as ids are in PostgreSQL and SQLite


class StaffPermissionPolicy(ModelPermissionPolicy):
    """The team's pages (the improvement log, organisations): model permissions, and
    being staff."""

    def user_has_permission(self, user, action):
        return user.is_active and user.is_staff and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


register_permission_policy(
    ImprovementAction, StaffPermissionPolicy(ImprovementAction), exact_class=True
)


class ImprovementActionForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "session" in self.fields:
            # A session's label names its track: read them together.
            self.fields["session"].queryset = TrainingSession.objects.select_related("track")

    def clean(self):
        cleaned = super().clean()
        track, session = cleaned.get("track"), cleaned.get("session")
        if track and session and session.track_id != track.pk:
            self.add_error("session", ValidationError(_("This session is of another track.")))
        if session and not track:
            cleaned["track"] = session.track
            self.instance.track = session.track
        return cleaned


class ImprovementActionIndexView(IndexView):
    pass  # a project view: the permission matrix covers it


class ImprovementActionCreateView(CreateView):
    """« Add an action » from the results page arrives with the track and session."""

    def get_initial(self):
        initial = super().get_initial()
        for name in ("track", "session"):
            value = self.request.GET.get(name, "")
            # The select looks the value up while rendering: "abc" or an integer past
            # what the id column holds made the page a 500. A bad link prefills nothing.
            if value.isascii() and value.isdigit() and int(value) <= MAX_ID:
                initial[name] = value
        source = self.request.GET.get("source", "")
        if source in ImprovementAction.Source.values:
            initial["source"] = source
        return initial

    def get_initial_form_instance(self):
        return ImprovementAction(recorded_by=self.request.user)


class ImprovementActionViewSet(SnippetViewSet):
    pk_path_converter = "pk"  # ids past 64 bits: a 404, not a 500 (config/converters.py)
    model = ImprovementAction
    icon = "list-ul"
    menu_label = _("Improvement log")
    menu_order = 256
    add_to_admin_menu = True
    index_view_class = ImprovementActionIndexView
    add_view_class = ImprovementActionCreateView
    copy_view_enabled = False
    list_display = ["__str__", "track", "session", "source", "status", "recorded_at"]
    list_filter = ["status", "source", "track"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("track"), FieldPanel("session")]),
            FieldPanel("source"),
            FieldPanel("finding"),
            FieldPanel("action"),
            FieldRowPanel([FieldPanel("status"), FieldPanel("done_at")]),
        ],
        base_form_class=ImprovementActionForm,
    )

    def get_queryset(self, request):
        return ImprovementAction.objects.select_related("track", "session__track")
