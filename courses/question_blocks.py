"""Question blocks: the quiz of a module and the positioning test of a track.

Questions live in a StreamField on the page that owns them, so they follow the
page's revisions and moderation, and each StreamField child keeps a stable
UUID that attempts and item analysis refer to. Competences and levels are
codes: `ModulePage.clean_fields` (and the admin's `ModulePageForm`, on the targets as
submitted) check them against the module's targeted competences
and their framework, which a ChoiceBlock over every framework could not.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError

QUESTION_TEMPLATE = "courses/blocks/question.html"


class OptionBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("Answer"), max_length=500)
    correct = blocks.BooleanBlock(label=_("Correct"), required=False)
    feedback = blocks.CharBlock(label=_("Feedback"), required=False, max_length=1000)

    class Meta:
        icon = "tick"
        label = _("Option")


def _common_fields() -> list[tuple[str, blocks.Block]]:
    return [
        (
            "competence",
            blocks.CharBlock(
                label=_("Competence code"),
                max_length=40,
                help_text=_("One of the competences the module targets, e.g. B1.1."),
            ),
        ),
        (
            "level",
            blocks.CharBlock(
                label=_("Level code"),
                max_length=40,
                help_text=_("A level code of the competence's framework, e.g. appliquer."),
            ),
        ),
        ("text", blocks.TextBlock(label=_("Question"))),
    ]


def _explanation() -> tuple[str, blocks.Block]:
    return (
        "explanation",
        blocks.TextBlock(
            label=_("Explanation"),
            required=False,
            help_text=_("Shown with the feedback, after the attempt."),
        ),
    )


def _options() -> tuple[str, blocks.Block]:
    return ("options", blocks.ListBlock(OptionBlock(), label=_("Options"), min_num=2))


def _error(field: str, message) -> StructBlockValidationError:
    return StructBlockValidationError(block_errors={field: ValidationError(message)})


class SingleChoiceBlock(blocks.StructBlock):
    def __init__(self, **kwargs):
        super().__init__([*_common_fields(), _options(), _explanation()], **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if sum(1 for option in value["options"] if option["correct"]) != 1:
            raise _error("options", _("Mark exactly one option as correct."))
        return value

    class Meta:
        icon = "radio-full"
        label = _("Single choice")
        template = QUESTION_TEMPLATE
        preview_value = {
            "competence": "B1.1",
            "level": "decouvrir",
            "text": "Lequel de ces lieux est un tiers-lieu ?",
            "options": [
                {"text": "Un centre d'affaires", "correct": False, "feedback": "Pas de collectif."},
                {"text": "Une ancienne gare animée par une association", "correct": True},
            ],
            "explanation": "Un tiers-lieu se reconnaît à ses usages et à son collectif.",
        }


class TrueFalseBlock(SingleChoiceBlock):
    def clean(self, value):
        value = super().clean(value)
        if len(value["options"]) != 2:
            raise _error("options", _("A true/false question has exactly two options."))
        return value

    class Meta:
        icon = "tick-inverse"
        label = _("True or false")
        template = QUESTION_TEMPLATE
        preview_value = {
            "competence": "B1.4",
            "level": "decouvrir",
            "text": "Un rétroplanning part de la date de fin.",
            "options": [{"text": "Vrai", "correct": True}, {"text": "Faux", "correct": False}],
        }


class MultipleChoiceBlock(blocks.StructBlock):
    ALL_OR_NOTHING = "all_or_nothing"
    PARTIAL = "partial"

    def __init__(self, **kwargs):
        super().__init__(
            [
                *_common_fields(),
                _options(),
                (
                    "scoring",
                    blocks.ChoiceBlock(
                        label=_("Scoring"),
                        choices=[
                            (self.ALL_OR_NOTHING, _("All or nothing")),
                            (self.PARTIAL, _("Partial credit (wrong picks cancel right ones)")),
                        ],
                        default=self.ALL_OR_NOTHING,
                    ),
                ),
                _explanation(),
            ],
            **kwargs,
        )

    def clean(self, value):
        value = super().clean(value)
        if not any(option["correct"] for option in value["options"]):
            raise _error("options", _("Mark at least one option as correct."))
        return value

    class Meta:
        icon = "list-ul"
        label = _("Multiple choice")
        template = QUESTION_TEMPLATE
        preview_value = {
            "competence": "B1.2",
            "level": "decouvrir",
            "text": "Quelles formes juridiques portent des tiers-lieux ?",
            "options": [
                {"text": "L'association loi 1901", "correct": True},
                {"text": "La SCIC", "correct": True},
                {"text": "L'établissement public de santé", "correct": False},
            ],
            "scoring": "partial",
        }


class ShortAnswerBlock(blocks.StructBlock):
    def __init__(self, **kwargs):
        super().__init__(
            [
                *_common_fields(),
                (
                    "accepted_answers",
                    blocks.ListBlock(
                        blocks.CharBlock(max_length=200),
                        label=_("Accepted answers"),
                        min_num=1,
                        help_text=_("Compared without regard to case, accents or extra spaces."),
                    ),
                ),
                _explanation(),
            ],
            **kwargs,
        )

    class Meta:
        icon = "edit"
        label = _("Short answer")
        template = QUESTION_TEMPLATE
        preview_value = {
            "competence": "B1.1",
            "level": "decouvrir",
            "text": "Comment appelle-t-on un atelier de fabrication numérique ouvert ?",
            "accepted_answers": ["fablab", "fab lab"],
        }


class NumericBlock(blocks.StructBlock):
    def __init__(self, **kwargs):
        super().__init__(
            [
                *_common_fields(),
                ("answer", blocks.FloatBlock(label=_("Answer"))),
                (
                    "tolerance",
                    blocks.FloatBlock(label=_("Tolerance (±)"), default=0, min_value=0),
                ),
                _explanation(),
            ],
            **kwargs,
        )

    class Meta:
        icon = "order"
        label = _("Number")
        template = QUESTION_TEMPLATE
        preview_value = {
            "competence": "B2.1",
            "level": "decouvrir",
            "text": "Combien de tiers-lieux en France en 2018 (ordre de grandeur) ?",
            "answer": 1800,
            "tolerance": 100,
        }


class OrderingBlock(blocks.StructBlock):
    def __init__(self, **kwargs):
        super().__init__(
            [
                *_common_fields(),
                (
                    "items",
                    blocks.ListBlock(
                        blocks.CharBlock(max_length=300),
                        label=_("Items, in the correct order"),
                        min_num=2,
                    ),
                ),
                _explanation(),
            ],
            **kwargs,
        )

    class Meta:
        icon = "list-ol"
        label = _("Ordering")
        template = QUESTION_TEMPLATE
        preview_value = {
            "competence": "B1.4",
            "level": "appliquer",
            "text": "Remettez dans l'ordre les phases d'un projet.",
            "items": ["Cadrage", "Planification", "Réalisation", "Clôture"],
        }


class OpenAnswerBlock(blocks.StructBlock):
    def __init__(self, **kwargs):
        super().__init__(
            [
                *_common_fields(),
                (
                    "allow_file",
                    blocks.BooleanBlock(
                        label=_("The learner may attach a file"), required=False, default=True
                    ),
                ),
                (
                    "explanation",
                    blocks.TextBlock(
                        label=_("What the trainer expects"),
                        required=False,
                        help_text=_("Guides the grading; shown to the learner after grading."),
                    ),
                ),
            ],
            **kwargs,
        )

    class Meta:
        icon = "doc-full"
        label = _("Open answer (graded by a trainer)")
        template = QUESTION_TEMPLATE
        preview_value = {
            "competence": "B4.2",
            "level": "maitriser",
            "text": "Décrivez votre positionnement dans la dynamique de votre tiers-lieu.",
            "allow_file": True,
            "explanation": "Un rôle nommé, une situation analysée, une évolution de posture.",
        }


class ScoredQuestionStreamBlock(blocks.StreamBlock):
    """Questions scored as soon as they are answered: a track's positioning test,
    which no trainer grades, offers only these."""

    single_choice = SingleChoiceBlock()
    multiple_choice = MultipleChoiceBlock()
    true_false = TrueFalseBlock()
    short_answer = ShortAnswerBlock()
    numeric = NumericBlock()
    ordering = OrderingBlock()


class QuestionStreamBlock(ScoredQuestionStreamBlock):
    """A module's quiz: open questions too, graded by a trainer."""

    open = OpenAnswerBlock()
