"""Wagtail admin of organisations, for the team: check the names agents gave at sign-up
before other agents are offered them, and appoint or relieve managers (référent·e·s).
Registered from wagtail_hooks.py."""

from django import forms
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.permissions import register_permission_policy
from wagtail.snippets.views.snippets import SnippetViewSet

from learners import organisations
from learners.models import Organisation, User
from learners.quality_admin import StaffPermissionPolicy

# The team's page, as the quality log is: it shows members' addresses and hands out
# the managers' view of the agents' training.
register_permission_policy(Organisation, StaffPermissionPolicy(Organisation), exact_class=True)


class ManagerChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user: User) -> str:
        return f"{user.display_name} <{user.email}>"


class OrganisationForm(WagtailAdminModelForm):
    managers = ManagerChoiceField(
        label=_("Managers (référent·e·s)"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Untick someone to take the role back."),
    )
    new_manager = forms.EmailField(
        label=_("Appoint a manager"),
        required=False,
        help_text=_(
            "The address of a member of this organisation who confirmed it (by the code "
            "of her sign-up or an invitation's link). A manager follows the members' "
            "awareness training and invites agents."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            current = User.objects.filter(
                organisation=self.instance, is_organisation_manager=True
            ).order_by("full_name", "email")
            self.fields["managers"].queryset = current
            self.initial["managers"] = list(current)
        if not self.fields["managers"].queryset.exists():
            del self.fields["managers"]

    def clean_new_manager(self) -> User | None:
        address = self.cleaned_data["new_manager"].strip()
        if not address:
            return None
        member = None
        if self.instance.pk:
            member = (
                organisations.confirmed_members(self.instance.pk)
                .filter(email__iexact=address)
                .first()
            )
        if member is None:
            raise forms.ValidationError(
                _(
                    "No member of this organisation has confirmed the address %(address)s: "
                    "invite the person first, or check the address."
                )
                % {"address": address},
                code="not_a_member",
            )
        return member

    def save(self, commit=True):
        organisation = super().save(commit=commit)
        managers = list(self.cleaned_data.get("managers") or [])
        if self.cleaned_data.get("new_manager"):
            managers.append(self.cleaned_data["new_manager"])
        if "managers" in self.fields or managers:
            organisations.appoint_managers(organisation, managers)
        return organisation


def deletion_refusal(organisations: list[Organisation]) -> str:
    """Why these organisations cannot be deleted, or "" if they can."""
    kept = [o for o in organisations if User.objects.filter(organisation=o).exists()]
    if not kept:
        return ""
    return _(
        "Nothing was deleted: these organisations still have members, whose manager "
        "would lose sight of them without a word: %(names)s. To stop offering one at "
        "sign-up, withdraw it from sign-up instead."
    ) % {"names": ", ".join(o.name for o in kept)}


class OrganisationViewSet(SnippetViewSet):
    pk_path_converter = "pk"  # ids past 64 bits: a 404, not a 500 (config/converters.py)
    model = Organisation
    icon = "group"
    menu_label = _("Organisations")
    menu_order = 252
    add_to_admin_menu = True
    copy_view_enabled = False
    list_display = [
        "name",
        "kind",
        "departement",
        "listing",
        Column("members", label=_("Members"), accessor="member_count"),
    ]
    list_filter = ["listing", "kind"]
    search_fields = ["name"]
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldRowPanel([FieldPanel("kind"), FieldPanel("siren")]),
            FieldRowPanel([FieldPanel("departement"), FieldPanel("region")]),
            FieldPanel("listing", widget=forms.RadioSelect),
            MultiFieldPanel(
                [FieldPanel("managers"), FieldPanel("new_manager")],
                heading=_("Managers"),
            ),
        ],
        base_form_class=OrganisationForm,
    )

    def register_chooser_viewset(self):
        # Nothing in the admin points to an organisation, and Wagtail's snippet
        # chooser asks only for admin access: trainers would list every organisation,
        # the names waiting for the team's check included.
        pass

    def get_queryset(self, request):
        return Organisation.objects.annotate(
            member_count=Count(
                "members", filter=Q(members__is_active=True, members__erased_at__isnull=True)
            )
        )
