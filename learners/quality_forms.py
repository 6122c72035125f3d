"""Forms of the Qualiopi evidence people give: « à froid » answers, trainer and funder feedback."""

from django import forms
from django.utils.translation import gettext_lazy as _

from learners.quality_models import Feedback

RATING_CHOICES = [
    (1, _("1 — not at all")),
    (2, _("2 — a little")),
    (3, _("3 — fairly")),
    (4, _("4 — a lot")),
    (5, _("5 — completely")),
]
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class FieldsetRadioSelect(forms.RadioSelect):
    """Radios rendered in a fieldset whose legend names the question.

    Django leaves a radio group without an id to point at; the error summary
    links to the first radio instead, so that following the link lands in the group.
    """

    def id_for_label(self, id_, index=None):
        return super().id_for_label(id_, "0" if index is None else index)


def rating_field(label, help_text="") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        choices=RATING_CHOICES,
        coerce=int,
        widget=FieldsetRadioSelect,
        error_messages={
            "required": _("Choose a rating from 1 to 5."),
            "invalid_choice": _("Choose a rating from 1 to 5."),
        },
    )


def comment_field(label, help_text="", required=False) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ColdSurveyForm(forms.Form):
    rating = rating_field(_("Overall, how satisfied are you with the training, looking back?"))
    usefulness = rating_field(_("How useful is what you learnt in your work?"))
    applied = forms.TypedChoiceField(
        label=_("Have you put something you learnt into practice?"),
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=FieldsetRadioSelect,
        error_messages={
            "required": _("Answer yes or no."),
            "invalid_choice": _("Answer yes or no."),
        },
    )
    comment = comment_field(
        _("Anything to tell us? (optional)"),
        _("For example what you applied, or what was missing from the training."),
    )


class TrainerFeedbackForm(forms.ModelForm):
    rating = rating_field(_("Overall, how satisfied are you with this session?"))

    class Meta:
        model = Feedback
        fields = ["rating", "strengths", "improvements"]
        widgets = {
            "strengths": forms.Textarea(attrs={"rows": 4}),
            "improvements": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {
            "strengths": _("What worked well (optional)"),
            "improvements": _("What should improve (optional)"),
        }


class FunderFeedbackForm(forms.ModelForm):
    rating = rating_field(_("Overall, how satisfied are you with this session?"))

    class Meta:
        model = Feedback
        fields = ["author_name", "organisation_name", "rating", "strengths", "improvements"]
        widgets = {
            "author_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "organisation_name": forms.TextInput(attrs={"autocomplete": "organization"}),
            "strengths": forms.Textarea(attrs={"rows": 4}),
            "improvements": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {
            "author_name": _("Your name"),
            "organisation_name": _("Your organisation"),
            "strengths": _("What worked well (optional)"),
            "improvements": _("What should improve (optional)"),
        }
        error_messages = {
            "author_name": {"required": _("Give your name.")},
            "organisation_name": {"required": _("Give the name of your organisation.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Blank on the model (trainers leave it out); a funder is an organisation.
        self.fields["organisation_name"].required = True
