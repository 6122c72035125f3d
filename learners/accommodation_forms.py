from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learners import accommodations


class AccommodationForm(forms.Form):
    """A learner describes the accommodation their disability calls for."""

    # No max_length: a browser would silently cut a pasted text at the limit,
    # where clean_need says how long it is and keeps all of it on the form.
    need = forms.CharField(
        label=gettext_lazy("Your need"), widget=forms.Textarea(attrs={"rows": 6})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["need"].help_text = _(
            "For example: subtitles, extra time for quizzes, an accessible room, a different "
            "pace. At most %(limit)d characters. Only you, the disability referent and the "
            "platform team read it."
        ) % {"limit": accommodations.MAX_NEED_LENGTH}

    def clean_need(self) -> str:
        return accommodations.clean_need(self.cleaned_data["need"])


class EnrolmentNeedForm(AccommodationForm):
    """The same field on the enrolment form, where it may stay empty."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["need"].required = False

    def clean_need(self) -> str:
        need = self.cleaned_data["need"].strip()
        return accommodations.clean_need(need) if need else ""
