"""Staff read and answer accommodation requests in the Wagtail admin (Qualiopi 26).

Requests come from learners only and stay as long as the account: staff neither
add nor delete them here, whatever their permissions.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.views.generic import EditView, IndexView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import log
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from learners import accommodations
from learners.models import AccommodationRequest


class AccommodationPermissionPolicy(ModelPermissionPolicy):
    def user_has_permission(self, user, action):
        if action in ("add", "delete"):
            return False
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


register_permission_policy(
    AccommodationRequest,
    AccommodationPermissionPolicy(AccommodationRequest),
    exact_class=True,
)


class AnswerForm(WagtailAdminModelForm):
    def clean(self):
        cleaned = super().clean()
        answered = cleaned.get("status") == AccommodationRequest.Status.ANSWERED
        if answered and not (cleaned.get("answer") or "").strip():
            self.add_error("answer", _("Write the answer the learner will receive."))
        if (cleaned.get("note_for_trainers") or "").strip() and not cleaned.get("note_agreed"):
            self.add_error(
                "note_agreed",
                _("Ask the learner first: her trainers read this note only with her agreement."),
            )
        return cleaned


class AccommodationIndexView(IndexView):
    pass  # a project view: the permission matrix covers it


class AccommodationEditView(EditView):
    def save_instance(self):
        # The service stamps who answered and when, and mails a new answer.
        request = accommodations.record_answer(
            self.form.instance,
            status=self.form.instance.status,
            answer=self.form.instance.answer,
            by=self.request.user,
            extra_time_percent=self.form.instance.extra_time_percent,
            note_for_trainers=self.form.instance.note_for_trainers,
            note_agreed=self.form.instance.note_agreed,
        )
        # The history keeps its label for good: health data, so no name in it.
        log(
            instance=request,
            action="wagtail.edit",
            user=self.request.user,
            title=gettext("Request %(number)s · %(track)s")
            % {"number": request.pk, "track": request.track},
        )
        return request


class AccommodationRequestViewSet(ModelViewSet):
    pk_path_converter = "pk"  # ids past 64 bits: a 404, not a 500 (config/converters.py)
    name = "accommodation_requests"
    url_namespace = "learners_accommodation"
    model = AccommodationRequest
    index_view_class = AccommodationIndexView
    edit_view_class = AccommodationEditView
    icon = "help"
    menu_label = _("Accommodation requests")
    menu_order = 255
    add_to_admin_menu = True
    copy_view_enabled = False
    # The need itself is health data: it shows on the request's page, not in lists.
    list_display = ["learner", "track", "status", "created_at", "answered_at", "handled_by"]
    list_filter = ["status", "track"]
    edit_handler = ObjectList(
        [
            FieldPanel("learner", read_only=True),
            FieldPanel("track", read_only=True),
            FieldPanel("session", read_only=True),
            FieldPanel("created_at", read_only=True),
            FieldPanel("need", read_only=True),
            FieldPanel("status"),
            FieldPanel("answer"),
            FieldPanel("extra_time_percent"),
            FieldPanel("note_for_trainers"),
            FieldPanel("note_agreed"),
        ],
        base_form_class=AnswerForm,
    )

    def get_queryset(self, request):
        return accommodations.open_first(
            AccommodationRequest.objects.select_related("learner", "track", "handled_by")
        )
