"""The targets' inline panel, whose duplicate row is named as authors see it.

modelcluster words a repeated competence from the constraint's raw field names
(« module et competence »); an author reads the competence's code instead.
"""

from django.utils.translation import gettext as _
from modelcluster.forms import BaseChildFormSet
from wagtail.admin.panels import InlinePanel


class TargetFormSet(BaseChildFormSet):
    def get_unique_error_message(self, unique_check) -> str:
        if set(unique_check) != {"module", "competence"}:
            return super().get_unique_error_message(unique_check)
        repeated = self._repeated_competences()
        return _(
            "Each competence is targeted once per module: remove the repeated row of %(codes)s."
        ) % {"codes": ", ".join(repeated) or "—"}

    def get_form_error(self) -> str:
        return _("This competence is already targeted in another row.")

    def _repeated_competences(self) -> list[str]:
        seen, repeated = set(), []
        for form in self.forms:
            competence = getattr(form, "cleaned_data", {}).get("competence")
            if competence is None or self._should_delete_form(form):
                continue
            if competence.pk in seen and competence.code not in repeated:
                repeated.append(competence.code)
            seen.add(competence.pk)
        return repeated


class TargetsPanel(InlinePanel):
    def get_form_options(self) -> dict:
        options = super().get_form_options()
        options["formsets"][self.relation_name]["formset"] = TargetFormSet
        return options
