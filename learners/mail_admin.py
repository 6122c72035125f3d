"""Staff see the mails that could not be sent, and send them again (« Renvoyer »).

Rows are written by failed mail tasks (learners/tasks.py, `MailTask`): staff
neither add nor edit them here. They may delete one they have dealt with by
other means (a phone call, a corrected address). Registered from wagtail_hooks.py.
"""

from django.core.exceptions import PermissionDenied
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.admin import messages
from wagtail.admin.ui.tables import BaseColumn, Column
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from learners import tasks
from learners.mail_models import UndeliveredMail

URL_NAMESPACE = "learners_undelivered_mail"


class UndeliveredMailPermissionPolicy(ModelPermissionPolicy):
    """The operating team's: being staff, and the model's permissions; resending is a change."""

    def user_has_permission(self, user, action):
        if action in ("add", "change"):
            return False  # rows come from failed sends only
        if action == "resend":
            action = "change"
        return user.is_active and user.is_staff and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


policy = UndeliveredMailPermissionPolicy(UndeliveredMail)
register_permission_policy(UndeliveredMail, policy, exact_class=True)


class ResendColumn(BaseColumn):
    """A « Resend » button on each row: a POST, as it sends mail."""

    def render_header_html(self, parent_context):
        return format_html('<th><span class="w-sr-only">{}</span></th>', self.label)

    def render_cell_html(self, instance, parent_context):
        request = parent_context.get("request")
        if request is None or not policy.user_has_permission(request.user, "resend"):
            return format_html("<td></td>")
        return format_html(
            '<td><form method="post" action="{}">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<button type="submit" class="button button-small button-secondary"'
            ' data-testid="resend-{}">{}</button></form></td>',
            reverse(f"{URL_NAMESPACE}:resend", args=[instance.pk]),
            get_token(request),
            instance.pk,
            _("Resend"),
        )


@require_POST
def resend(request, pk: int):
    if not policy.user_has_permission(request.user, "resend"):
        raise PermissionDenied
    mail = get_object_or_404(UndeliveredMail, pk=pk)
    handed_over = tasks.resend_undelivered(mail.pk)
    # Embedded mode has sent it (or failed) by now; with workers it is on its way.
    after = UndeliveredMail.objects.filter(pk=mail.pk).first()
    if after is None:
        messages.success(request, _("The email to %(recipient)s was sent.") % _names(mail))
    elif after.resent_at and after.failed_at >= after.resent_at:
        messages.error(
            request,
            _("The email to %(recipient)s could not be sent again: %(error)s")
            % {**_names(after), "error": after.error},
        )
    elif handed_over:
        messages.success(
            request,
            _(
                "The email to %(recipient)s will be sent again shortly; "
                "it leaves this list when sent."
            )
            % _names(after),
        )
    else:
        messages.warning(
            request, _("The email to %(recipient)s is being resent already.") % _names(after)
        )
    return redirect(f"{URL_NAMESPACE}:index")


def _names(mail: UndeliveredMail) -> dict[str, str]:
    return {"recipient": mail.recipient or "?"}


class UndeliveredMailViewSet(ModelViewSet):
    pk_path_converter = "pk"  # ids past 64 bits: a 404, not a 500 (config/converters.py)
    name = "undelivered_mails"
    url_namespace = URL_NAMESPACE
    model = UndeliveredMail
    icon = "warning"
    menu_label = gettext_lazy("Undelivered emails")
    menu_order = 258
    add_to_admin_menu = True
    copy_view_enabled = False
    inspect_view_enabled = True
    form_fields = []  # never shown: nobody may edit a row (see the policy)
    list_display = [
        Column("label", label=gettext_lazy("email")),
        "recipient",
        "error",
        "attempts",
        "failed_at",
        ResendColumn("resend", label=gettext_lazy("Resend")),
    ]
    inspect_view_fields = [
        "task",
        "args",
        "recipient",
        "error",
        "attempts",
        "first_failed_at",
        "failed_at",
        "resent_at",
    ]

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), path("resend/<pk:pk>/", resend, name="resend")]
