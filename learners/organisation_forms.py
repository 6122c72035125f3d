"""Forms of the agents' light sign-up and of the organisation manager's pages."""

from allauth.account.models import EmailAddress
from django import forms
from django.db.models import Value
from django.utils.translation import gettext_lazy as _

from learners import insee, organisations
from learners.accents import Folded
from learners.models import Organisation, User


class AgentSignupForm(forms.Form):
    """A public agent's sign-up: who they are and where they work, no password."""

    full_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        help_text=_("As it must appear on your attestation."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Professional email address"),
        # The column's length: Django's form field alone lets 320 characters through.
        max_length=User._meta.get_field("email").max_length,
        help_text=_("We send a login code to it: no password to remember."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    organisation = forms.ModelChoiceField(
        label=_("Your organisation"),
        queryset=Organisation.objects.offered(),
        # Required unless named below (see clean()): no `required` attribute, the help says it.
        required=False,
        empty_label=_("— not in the list: name it below —"),
        help_text=_("Required, unless you name your organisation below."),
    )
    new_organisation_name = forms.CharField(
        label=_("Name of your organisation"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    new_organisation_kind = forms.ChoiceField(
        label=_("Type of organisation"),
        choices=[("", "—")] + list(Organisation.Kind.choices),
        required=False,
    )
    new_organisation_departement = forms.ChoiceField(
        label=_("Département"), choices=(), required=False
    )
    job_title = forms.CharField(
        label=_("Job title (optional)"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_organisation_departement"].choices = [
            ("", "—"),
            *insee.departement_choices(),
        ]
        self.fields["organisation"].error_messages["invalid_choice"] = _(
            "Choose an organisation from the list."
        )

    unclaimed: User | None = None

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        # A sign-up whose code was never typed proves nothing: whoever signs up with
        # the address again (its owner, who may be the first to) writes over it.
        self.unclaimed = organisations.unclaimed_signup(email)
        if self.unclaimed is not None:
            return email
        # Another account's confirmed second address is taken too: it signs that
        # account in by code, and its invitations go to that account.
        if (
            User.objects.filter(email__iexact=email).exists()
            or EmailAddress.objects.filter(email__iexact=email, verified=True).exists()
        ):
            raise forms.ValidationError(
                _("An account already uses this address: log in with a code instead."),
                code="email_taken",
            )
        return email

    def clean(self):
        cleaned = super().clean()
        organisation = cleaned.get("organisation")
        # Spaces as typed count for nothing: « Mairie  de Guéret » is « Mairie de Guéret ».
        name = " ".join(cleaned.get("new_organisation_name", "").split())
        cleaned["new_organisation_name"] = name
        if organisation and name:
            self.add_error(
                "new_organisation_name",
                _("Either choose your organisation in the list or name a new one, not both."),
            )
        elif not organisation and not name and "organisation" not in self.errors:
            self.add_error(
                "organisation", _("Choose your organisation in the list, or name it below.")
            )
        elif name:
            # « Mairie de Gueret » is « Mairie de Guéret »: a second organisation would
            # leave the agent out of sight of the first one's manager.
            existing = (
                Organisation.objects.annotate(folded=Folded("name"))
                .filter(folded=Folded(Value(name)))
                .first()
            )
            if existing is not None and existing.listing == Organisation.Listing.OFFERED:
                self.add_error(
                    "new_organisation_name",
                    _("« %(name)s » already exists: choose it in the list.")
                    % {"name": existing.name},
                )
            elif existing is not None and existing.listing == Organisation.Listing.WITHDRAWN:
                self.add_error(
                    "new_organisation_name",
                    _(
                        "« %(name)s » can no longer be chosen at sign-up: choose your "
                        "organisation in the list, or write to the training team."
                    )
                    % {"name": existing.name},
                )
            # Asked whatever the name matches: the answer must not tell which names
            # wait for the team's check.
            if not cleaned.get("new_organisation_kind"):
                self.add_error("new_organisation_kind", _("Give the type of your organisation."))
            if not cleaned.get("new_organisation_departement"):
                self.add_error("new_organisation_departement", _("Give its département."))
            if existing is not None and not self.errors:
                # Named by an earlier sign-up, not checked yet: a colleague who types
                # its name joins it rather than making a second one.
                cleaned["organisation"] = existing
                cleaned["new_organisation_name"] = ""
        return cleaned

    def new_organisation(self) -> dict | None:
        name = self.cleaned_data.get("new_organisation_name", "").strip()
        if not name:
            return None
        departement = self.cleaned_data["new_organisation_departement"]
        return {
            "name": name,
            "kind": self.cleaned_data["new_organisation_kind"],
            "departement": departement,
            "region": insee.departements()[departement].region,
        }


class InvitationForm(forms.Form):
    """Addresses pasted one per line, or a CSV file: one or the other."""

    emails = forms.CharField(
        label=_("Email addresses, one per line"),
        help_text=_("Or several on a line, separated by commas or semicolons."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )
    file = forms.FileField(
        label=_("Or a CSV file"),
        required=False,
        help_text=_(
            "A header line naming the columns: courriel (or email), and if you wish nom, "
            "prénom, fonction; commas or semicolons; UTF-8."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean(self):
        cleaned = super().clean()
        has_text = bool(cleaned.get("emails", "").strip())
        has_file = bool(cleaned.get("file"))
        if has_text and has_file:
            raise forms.ValidationError(_("Paste addresses or upload a file, not both."))
        if not has_text and not has_file and "file" not in self.errors:
            raise forms.ValidationError(_("Paste at least one address or upload a CSV file."))
        return cleaned
