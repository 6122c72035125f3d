from django import forms
from django.utils.translation import gettext_lazy as _

from learners.attendance import normalise_code
from learners.models import User
from learners.session_models import Attendance, HalfDay, Seat, TrainingSession


class AttendanceCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code shown by your trainer"),
        max_length=40,
        help_text=_("Six letters and digits, for example K7QM3A. Spaces and case do not matter."),
        widget=forms.TextInput(
            attrs={
                # Phones offer codes from messages; capitals and no spell-checker suit
                # a code made of upper-case letters and digits.
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autocapitalize": "characters",
                "autocorrect": "off",
                "spellcheck": "false",
                "class": "attendance-code-input",
            }
        ),
        error_messages={"required": _("Type the code your trainer shows.")},
    )

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data["code"])
        if not code.isalnum() or len(code) > HalfDay._meta.get_field("code").max_length:
            raise forms.ValidationError(_("A code has only letters and digits, like K7QM3A."))
        return code


class _SessionForm(forms.Form):
    half_day = forms.ModelChoiceField(
        label=_("Half-day"),
        queryset=HalfDay.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("This half-day is not part of the session.")},
    )

    def __init__(self, *args, session: TrainingSession, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["half_day"].queryset = session.half_days.all()


class TrainerRecordForm(_SessionForm):
    """A trainer confirms one learner's presence or records their absence."""

    learner = forms.ModelChoiceField(
        label=_("Learner"),
        queryset=User.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("This person has no confirmed seat in the session.")},
    )
    status = forms.ChoiceField(label=_("Attendance"), choices=Attendance.Status.choices)

    def __init__(self, *args, session: TrainingSession, **kwargs):
        super().__init__(*args, session=session, **kwargs)
        self.fields["learner"].queryset = User.objects.filter(
            seats__session=session, seats__status=Seat.Status.CONFIRMED
        )


class ConfirmAllForm(_SessionForm):
    """A trainer confirms every signature of a half-day at once."""
