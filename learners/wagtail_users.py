"""Wagtail's user admin, with the operating team's flag it lacks, erasing instead of deleting.

The team's pages (certificates, attendance of every session, satisfaction results,
undelivered mail, the territory dashboard) ask for `is_staff` and a permission. Wagtail's
own forms never set `is_staff`: without this, only accounts made with `createsuperuser`
could ever be given those pages, whatever groups an administrator ticked.

« Delete », one account or several, erases them as a person's own request does
(`services.erase_account`): deleting the row would take attendance, activity and
submissions with it (Qualiopi evidence, signed half-days) and leave behind what
the erasure removes (files, accepted invitations, login logs), and a confirmed place
in a coming session would vanish without the waiting list moving up.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.users.forms import UserCreationForm, UserEditForm
from wagtail.users.utils import user_can_delete_user
from wagtail.users.views.bulk_actions import assign_role, set_active_state
from wagtail.users.views.bulk_actions.user_bulk_action import UserBulkAction
from wagtail.users.views.users import CreateView, DeleteView, EditView, UserViewSet

from learners import services


def _team_field() -> forms.BooleanField:
    return forms.BooleanField(
        label=_("Operating team"),
        required=False,
        help_text=_(
            "Opens the team's pages (certificates, attendance, satisfaction results, "
            "territory figures) as far as this person's groups allow."
        ),
    )


def _only_superusers_grant_powers(form, by, editing_self: bool = False) -> None:
    # Wagtail lets whoever may change users tick « Administrator » for anyone, and their
    # own groups: a user manager could make themselves (through a second account) a
    # superuser or a team member, or give themselves any permission. Those are an
    # administrator's to give.
    if by is None or not by.is_superuser:
        for name in ("is_superuser", "is_staff"):
            form.fields.pop(name, None)
        if editing_self:
            form.fields.pop("groups", None)


class TeamUserCreationForm(UserCreationForm):
    is_staff = _team_field()

    def __init__(self, *args, by=None, **kwargs):
        super().__init__(*args, **kwargs)
        _only_superusers_grant_powers(self, by)

    class Meta(UserCreationForm.Meta):
        fields = UserCreationForm.Meta.fields | {"is_staff"}


class TeamUserEditForm(UserEditForm):
    is_staff = _team_field()

    def __init__(self, *args, by=None, **kwargs):
        editing_self = kwargs.get("editing_self", False)
        super().__init__(*args, **kwargs)
        if editing_self:
            # As Wagtail does for « Administrator »: nobody grants or drops it for themselves.
            del self.fields["is_staff"]
        _only_superusers_grant_powers(self, by, editing_self)

    class Meta(UserEditForm.Meta):
        fields = UserEditForm.Meta.fields | {"is_staff"}


class TeamUserCreateView(CreateView):
    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "by": self.request.user}


class TeamUserEditView(EditView):
    def dispatch(self, request, *args, **kwargs):
        # An erased account stays erased: an address, a password or « active » given
        # back would tie its anonymised results to a person again, and let her in.
        # (Said only to whoever may edit accounts: others learn nothing of which were erased.)
        if (
            self.permission_policy.user_has_permission(request.user, "change")
            and self.model.objects.filter(pk=kwargs.get("pk"), erased_at__isnull=False).exists()
        ):
            messages.info(request, _("This account was erased: it can no longer be changed."))
            return redirect("wagtailusers_users:index")
        # An administrator's account (its password, its address) is an administrator's
        # to change: a user manager could otherwise take it over.
        target = self.model.objects.filter(pk=kwargs.get("pk"), is_superuser=True)
        if not request.user.is_superuser and target.exists():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "by": self.request.user}


class EraseUserView(DeleteView):
    page_title = _("Erase the account")

    def dispatch(self, request, *args, **kwargs):
        # Erased already: once is the record of when the request was carried out.
        if self.model.objects.filter(pk=kwargs.get("pk"), erased_at__isnull=False).exists():
            messages.info(request, _("This account was erased already."))
            return redirect("wagtailusers_users:index")
        return super().dispatch(request, *args, **kwargs)

    def delete_action(self):
        # Named in the message as they were: once erased, the account has no name.
        self.erased_name = str(self.object)
        services.erase_account(self.object, by=self.request.user)

    def get_success_message(self):
        return _(
            "The account of %(name)s was erased: personal data removed, account closed. "
            "Results and attendance stay, anonymised."
        ) % {"name": self.erased_name}


class SetActiveStateBulkAction(set_active_state.SetActiveStateBulkAction):
    """Wagtail's « Set active state », for every account but an erased one."""

    def check_perm(self, obj):
        return obj.erased_at is None and super().check_perm(obj)


class AssignRoleBulkAction(assign_role.AssignRoleBulkAction):
    """Wagtail's « Assign role », for every account but an erased one: its groups were
    cleared with the rest, and a role given back would open pages to it if reactivated."""

    def check_perm(self, obj):
        return obj.erased_at is None and super().check_perm(obj)


class EraseUsersBulkAction(UserBulkAction):
    """Takes the place of Wagtail's bulk « Delete » (same action type, registered after)."""

    display_name = _("Erase")
    action_type = "delete"
    aria_label = _("Erase the selected accounts")
    template_name = "learners/admin/erase_users_bulk.html"
    action_priority = 10
    classes = {"serious"}

    def check_perm(self, obj):
        # An account erased already is listed as one nobody may erase again.
        return obj.erased_at is None and user_can_delete_user(self.request.user, obj)

    def get_execution_context(self):
        return {**super().get_execution_context(), "by": self.request.user}

    @classmethod
    def execute_action(cls, objects, by=None, **kwargs):
        for user in objects:
            services.erase_account(user, by=by)
        return len(objects), 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "%(count)d account erased: personal data removed, account closed.",
            "%(count)d accounts erased: personal data removed, accounts closed.",
            num_parent_objects,
        ) % {"count": num_parent_objects}


class TeamUserViewSet(UserViewSet):
    pk_path_converter = "pk"  # ids past 64 bits: a 404, not a 500 (config/converters.py)
    add_view_class = TeamUserCreateView
    edit_view_class = TeamUserEditView
    delete_view_class = EraseUserView
    delete_template_name = "learners/admin/erase_user.html"

    def get_delete_view_kwargs(self, **kwargs):
        # Nothing is deleted: what refers to the account stays, anonymised.
        return super().get_delete_view_kwargs(usage_url_name=None, **kwargs)

    def get_form_class(self, for_update=False):
        return TeamUserEditForm if for_update else TeamUserCreationForm
