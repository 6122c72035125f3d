from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from courses.models import Competence, Level
from learners.models import User
from learners.password_checks import is_her_password


class SignupProfileForm(forms.Form):
    """Extra fields of allauth's sign-up form: who the person is, not how they log in."""

    full_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        help_text=_("As it must appear on your certificates."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    role = forms.ChoiceField(
        label=_("I am"),
        choices=[
            (User.Role.FACILITATOR, User.Role.FACILITATOR.label),
            (User.Role.PUBLIC_AGENT, User.Role.PUBLIC_AGENT.label),
        ],
        initial=User.Role.FACILITATOR,
        widget=forms.RadioSelect,
    )

    def signup(self, request, user: User) -> None:
        user.full_name = self.cleaned_data["full_name"]
        user.role = self.cleaned_data["role"]
        user.save(update_fields=["full_name", "role"])


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "job_title"]
        labels = {"full_name": _("Full name")}
        help_texts = {"full_name": _("As it must appear on your certificates.")}
        # Browsers and assistive tools can fill in what they know of the person (WCAG 1.3.5).
        widgets = {
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "job_title": forms.TextInput(attrs={"autocomplete": "organization-title"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Blank on the model (accounts created by staff or an invitation may not
        # have it yet), but the person cannot empty it: certificates print it and
        # would otherwise fall back to the email address.
        name = self.fields["full_name"]
        name.required = True
        name.error_messages["required"] = _(
            "Enter your full name: it is printed on your certificates."
        )


class ObservationForm(forms.Form):
    """A trainer's validation by observation: it enters the ledger under their name."""

    competence = forms.ModelChoiceField(label=_("Competence"), queryset=Competence.objects.none())
    level = forms.ModelChoiceField(label=_("Level observed"), queryset=Level.objects.none())
    comment = forms.CharField(
        label=_("What you observed"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The situation and what the learner did: the learner will read it."),
    )

    def __init__(self, *args, competences, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["competence"].queryset = competences
        self.fields["competence"].label_from_instance = lambda c: f"{c.code} — {c.title}"
        self.fields["competence"].error_messages["invalid_choice"] = _(
            "Choose a competence that one of your modules targets."
        )
        frameworks = competences.values("block__framework")
        self.fields["level"].queryset = Level.objects.filter(framework__in=frameworks).order_by(
            "framework", "rank"
        )
        self.fields["level"].label_from_instance = lambda level: level.label
        self.fields["level"].error_messages["invalid_choice"] = _(
            "Choose one of the levels listed."
        )

    def clean(self):
        cleaned = super().clean()
        competence, level = cleaned.get("competence"), cleaned.get("level")
        if competence and level and level.framework_id != competence.block.framework_id:
            self.add_error(
                "level",
                _("This level belongs to another framework than the competence's."),
            )
        return cleaned


class EraseAccountForm(forms.Form):
    """Confirms an erasure: the password when the account has one, else the email address."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirmation = forms.CharField(
        label=_("Type your email address to confirm"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args, user: User, request: HttpRequest, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request
        if user.has_usable_password():
            del self.fields["confirmation"]
            self.fields["password"].required = True
            self.fields["password"].error_messages["required"] = _(
                "Enter your password to confirm."
            )
        else:
            del self.fields["password"]
            self.fields["confirmation"].required = True
            self.fields["confirmation"].error_messages["required"] = _(
                "Type your email address to confirm."
            )
            # In the help, the field's description: a screen reader reads it on the field.
            self.fields["confirmation"].help_text = _("Type %(email)s exactly.") % {
                "email": user.email
            }

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not is_her_password(self.request, self.user, password):
            raise forms.ValidationError(_("This password is not correct."))
        return password

    def clean_confirmation(self) -> str:
        typed = self.cleaned_data["confirmation"].strip()
        if typed.lower() != self.user.email.lower():
            raise forms.ValidationError(
                _("This is not your email address: type it exactly as shown.")
            )
        return typed


class ConfirmIdentityForm(forms.Form):
    """The password for accounts that have one, else the code mailed to the address."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password.")},
    )
    code = forms.CharField(
        label=_("Code received by email"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "characters"}
        ),
        error_messages={"required": _("Enter the code you received.")},
    )

    def __init__(self, *args, user: User, request: HttpRequest, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request
        if user.has_usable_password():
            del self.fields["code"]
        else:
            del self.fields["password"]

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not is_her_password(self.request, self.user, password):
            raise forms.ValidationError(_("This password is not correct."))
        return password

    def clean_code(self) -> str:
        from learners import identity_checks

        code = self.cleaned_data["code"]
        try:
            identity_checks.check_code(self.request, code)
        except identity_checks.CodeRefused as refusal:
            raise forms.ValidationError(str(refusal)) from refusal
        return code
