from django import forms
from django.utils.translation import gettext_lazy as _

from learners.models import User


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
