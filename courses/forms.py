"""The module page's admin form: its checks read what the author submitted.

Imported by courses.models.pages (as `ModulePage.base_form_class`): it must not
import courses.models, only courses.models.frameworks and courses.assessments (which
imports no model).
"""

from django.db.models import Q
from wagtail.admin.forms import WagtailAdminModelForm, WagtailAdminPageForm

from courses.assessments import file_question_error
from courses.models.frameworks import Competence, Level

# ModulePage.clean_fields makes these checks on the page's relations; this form
# makes them on the submitted data instead and leaves them out of the model's.
RELATION_CHECKS = ("targets", "quiz", "prerequisite_modules")


def competence_label(competence: Competence) -> str:
    # After a framework's « new version » every code appears twice: say whose it is.
    return f"{competence.block.framework.label} · {competence}"


def level_label(level: Level) -> str:
    return f"{level.framework.label} · {level}"


def label_choices(fields) -> None:
    """Name the framework and its version in the competence and level selects."""
    for name, label in (
        ("competence", competence_label),
        ("level", level_label),
        ("target_level", level_label),
    ):
        field = fields.get(name)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = field.queryset.for_choices()
            field.label_from_instance = label


class TargetForm(WagtailAdminModelForm):
    """A row of the module's targeted competences."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label_choices(self.fields)


class ModulePageFormMetaclass(type(WagtailAdminPageForm)):
    @classmethod
    def child_form(cls):
        # modelcluster builds the inline formsets' forms from this class.
        return TargetForm


class ModulePageForm(WagtailAdminPageForm, metaclass=ModulePageFormMetaclass):
    """Checks the quiz and the prerequisites against the targets as submitted.

    The targets are an inline formset: the page holds the submitted rows only once
    the form is saved. Until then the model would check the quiz against the stored
    (or last revision's) targets: a new module could not get its targets and its
    quiz in one save, and a target removed in the form still counted.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label_choices(self.fields)
        track = self._track()
        if "level" in self.fields and track is not None and track.framework_id:
            # The track's framework only; another's level is refused in clean() all the same.
            # The stored level stays listed, so that a foreign one is refused with a
            # message rather than dropped by a select that no longer offers it.
            levels = self.fields["level"].queryset
            self.fields["level"].queryset = levels.filter(
                Q(framework_id=track.framework_id) | Q(pk=self.instance.level_id)
            )
        for name in ("quiz_max_attempts", "quiz_time_limit_minutes"):
            if name in self.fields:
                self.fields[name].widget.attrs["min"] = 1

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        exclude.update(RELATION_CHECKS)
        return exclude

    def clean(self):
        cleaned_data = super().clean()
        quiz = cleaned_data.get("quiz")
        targets = self._submitted_targets()
        if (
            targets is not None
            and quiz is not None
            and (errors := self.instance.quiz_errors(quiz, targets))
        ):
            self.add_error("quiz", errors)
        # Here, not only in the model's checks, which the form leaves out for the quiz:
        # saving the revision would raise them as a server error.
        if quiz is not None and (message := file_question_error(quiz)):
            self.add_error("quiz", message)
        message = self.instance.level_error(cleaned_data.get("level"), self._track())
        if message:
            self.add_error("level", message)
        prerequisites = cleaned_data.get("prerequisite_modules")
        if prerequisites is not None:
            message = self.instance.prerequisite_error(list(prerequisites))
            if message:
                self.add_error("prerequisite_modules", message)
        return cleaned_data

    def _submitted_targets(self) -> list | None:
        """The targets the module will have (unsaved rows), or None while the rows have errors.

        A competence of another framework than the track's is refused on its row.
        """
        formset = self.formsets.get("targets")
        if formset is None or not formset.is_valid():
            return None
        track = self._track()
        targets, refused = [], False
        for form in formset.forms:
            data = form.cleaned_data
            if not data or data.get("DELETE"):
                continue
            if not data.get("competence") or not data.get("target_level"):
                continue  # a draft may keep an unfinished row
            target = formset.model(competence=data["competence"], target_level=data["target_level"])
            for message in self.instance.target_errors([target], track):
                form.add_error("competence", message)
                refused = True
            targets.append(target)
        return None if refused else targets

    def _track(self):
        parent = self.parent_page
        if parent is None:
            return None
        return getattr(parent, "specific", parent)


class TrackPageForm(WagtailAdminPageForm):
    """Leaves half-written positioning questions to Wagtail's own check of the form:
    it defers required fields for drafts and enforces them when publishing."""

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        exclude.add("positioning")
        return exclude
