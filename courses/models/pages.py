"""The Wagtail page tree: Home → Catalogue → Track → Module → Lesson."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.queryset import FakeQuerySet
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page, PageManager, PageQuerySet
from wagtail.search import index

from courses.assessments import (
    file_question_error,
    incomplete_questions,
    question_errors,
)
from courses.blocks import RICH_TEXT_FEATURES, LessonStreamBlock
from courses.forms import RELATION_CHECKS, ModulePageForm, TrackPageForm
from courses.question_blocks import QuestionStreamBlock, ScoredQuestionStreamBlock
from courses.target_panel import TargetsPanel

from .frameworks import Competence, Framework, Level


class Audience(models.TextChoices):
    FACILITATORS = "facilitateurs", _("Tiers-lieux facilitators")
    PUBLIC_AGENTS = "agents_publics", _("Public agents")


class Format(models.TextChoices):
    ONLINE = "en_ligne", _("Online")
    ON_SITE = "presentiel", _("On site")
    BLENDED = "hybride", _("Blended")


class FeedbackPolicy(models.TextChoices):
    IMMEDIATELY = "immediately", _("Immediately after each attempt")
    AFTER_PASSING = "after_passing", _("Once the learner has passed")
    NEVER = "never", _("Never (score only)")


AT_MOST_A_YEAR = MaxValueValidator(
    365 * 24 * 60, message=_("At most %(limit_value)s minutes (a year).")
)


def _pass_mark_field(verbose_name):
    return models.PositiveSmallIntegerField(
        verbose_name,
        default=70,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Percentage of the automatically scored questions."),
    )


class HomePage(Page):
    intro = RichTextField(_("introduction"), blank=True, features=RICH_TEXT_FEATURES)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["courses.CatalogPage"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["tracks"] = TrackPage.objects.live().public().descendant_of(self).order_by("path")
        return context


class CatalogPage(Page):
    intro = RichTextField(_("introduction"), blank=True, features=RICH_TEXT_FEATURES)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["courses.HomePage"]
    subpage_types = ["courses.TrackPage"]
    max_count = 1

    class Meta:
        verbose_name = _("catalogue")

    def serve(self, request, *args, **kwargs):
        # The catalogue is a filtered listing of modules; its view lives in courses.views.
        from courses.views import catalogue

        return catalogue(request, self)


class TrackPage(Page):
    """A track (parcours): the public course sheet Qualiopi indicator 1 asks for."""

    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices)
    framework = models.ForeignKey(
        Framework,
        verbose_name=_("skills framework"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tracks",
    )
    summary = models.TextField(_("summary"), blank=True)
    objectives = RichTextField(_("objectives"), features=RICH_TEXT_FEATURES)
    prerequisites = RichTextField(_("prerequisites"), blank=True, features=RICH_TEXT_FEATURES)
    duration_hours = models.DecimalField(_("duration (hours)"), max_digits=6, decimal_places=1)
    access_terms = RichTextField(_("access terms"), blank=True, features=RICH_TEXT_FEATURES)
    access_delay = models.CharField(_("access delay"), max_length=255, blank=True)
    price = models.CharField(_("price"), max_length=255, blank=True)
    funding = RichTextField(_("funding"), blank=True, features=RICH_TEXT_FEATURES)
    methods = RichTextField(_("teaching methods"), blank=True, features=RICH_TEXT_FEATURES)
    evaluation_terms = RichTextField(_("evaluation terms"), blank=True, features=RICH_TEXT_FEATURES)
    accessibility = RichTextField(
        _("disability accessibility"), blank=True, features=RICH_TEXT_FEATURES
    )
    disability_referent = models.CharField(_("disability referent"), max_length=150, blank=True)
    disability_contact = models.EmailField(_("disability referent's email"), blank=True)
    contact = models.EmailField(_("contact"), blank=True)
    positioning = StreamField(
        ScoredQuestionStreamBlock(),
        verbose_name=_("positioning questions"),
        blank=True,
        help_text=_("A short quiz learners take when they enter the track (Qualiopi 8)."),
    )
    positioning_pass_mark = _pass_mark_field(_("positioning pass mark (%)"))
    base_form_class = TrackPageForm

    content_panels = Page.content_panels + [
        FieldPanel("audience"),
        FieldPanel("framework"),
        FieldPanel("summary"),
        FieldPanel("objectives"),
        FieldPanel("prerequisites"),
        FieldPanel("duration_hours"),
        MultiFieldPanel(
            [
                FieldPanel("access_terms"),
                FieldPanel("access_delay"),
                FieldPanel("price"),
                FieldPanel("funding"),
            ],
            heading=_("Access and funding"),
        ),
        FieldPanel("methods"),
        FieldPanel("evaluation_terms"),
        MultiFieldPanel(
            [
                FieldPanel("accessibility"),
                FieldPanel("disability_referent"),
                FieldPanel("disability_contact"),
            ],
            heading=_("Disability"),
        ),
        FieldPanel("contact"),
        MultiFieldPanel(
            [FieldPanel("positioning_pass_mark"), FieldPanel("positioning")],
            heading=_("Positioning test"),
        ),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("objectives"),
        index.FilterField("audience"),
    ]
    parent_page_types = ["courses.CatalogPage"]
    subpage_types = ["courses.ModulePage"]

    class Meta:
        verbose_name = _("track")
        verbose_name_plural = _("tracks")

    @property
    def duration_count(self) -> int:
        """The whole number that picks « heure » or « heures » (gettext counts in
        integers; French is singular below 2): 1,5 heure, 2,5 heures."""
        return int(self.duration_hours)

    def modules(self) -> PageQuerySet:
        return ModulePage.objects.live().child_of(self).with_cards().order_by("path")

    def clean(self) -> None:
        super().clean()
        if messages := self.positioning_errors():
            raise ValidationError({"positioning": messages})

    def clean_fields(self, exclude=None) -> None:
        """Field checks, then half-written positioning questions: a draft saved through
        the admin may keep them (its form excludes the field, as a module's form does
        its quiz), but whatever saves the page live must not."""
        exclude = set(exclude or ())
        errors: dict = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        checked = "positioning" not in exclude and "positioning" not in errors
        if checked and (messages := incomplete_questions(self.positioning)):
            errors["positioning"] = messages
        if errors:
            raise ValidationError(errors)

    def positioning_errors(self) -> list[str]:
        """Questions on a competence or a level outside the track's framework."""
        if not len(self.positioning):
            return []
        if not self.framework_id:
            return [
                _(
                    "Choose the track's skills framework first: positioning questions "
                    "are about its competences."
                )
            ]
        levels = set(self.framework.levels.values_list("code", flat=True))
        codes = Competence.objects.of_framework(self.framework).values_list("code", flat=True)
        allowed = dict.fromkeys(codes, levels)  # read only: one set shared is enough
        unknown = _(
            "Question %(number)s: « %(code)s » is not a competence of the track's framework."
        )
        return question_errors(self.positioning, allowed, unknown=unknown)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["modules"] = self.modules()
        return context


class ModulePageQuerySet(PageQuerySet):
    def for_competence(self, competence: Competence):
        return self.filter(targets__competence=competence).distinct()

    def for_audience(self, audience: str):
        tracks = TrackPage.objects.filter(audience=audience)
        if not tracks:
            return self.none()
        query = models.Q()
        for track in tracks:
            query |= models.Q(path__startswith=track.path)
        return self.filter(query)

    def with_cards(self):
        """What a catalogue card shows, in a fixed number of queries."""
        return self.select_related("level", "cover_image").prefetch_related(
            models.Prefetch(
                "targets",
                queryset=ModuleCompetence.objects.select_related(
                    "competence", "competence__block", "target_level"
                ).order_by("sort_order"),
            )
        )


ModulePageManager = PageManager.from_queryset(ModulePageQuerySet)


class ModulePage(Page):
    # Read by courses.routing: the module page shows its level.
    route_select_related = ("level",)

    summary = models.TextField(_("summary"))
    objectives = RichTextField(_("operational objectives"), features=RICH_TEXT_FEATURES)
    format = models.CharField(
        _("format"), max_length=12, choices=Format.choices, default=Format.ONLINE
    )
    duration_minutes = models.PositiveIntegerField(_("estimated duration (minutes)"))
    level = models.ForeignKey(
        Level,
        verbose_name=_("level"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    prerequisite_modules = ParentalManyToManyField(
        "self",
        verbose_name=_("prerequisite modules"),
        blank=True,
        symmetrical=False,
        related_name="unlocks",
    )
    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("cover image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cover_alt = models.CharField(
        _("cover image alternative text"),
        max_length=300,
        blank=True,
        help_text=_("Leave empty only if the image is purely decorative."),
    )
    quiz = StreamField(QuestionStreamBlock(), verbose_name=_("quiz questions"), blank=True)
    quiz_questions_per_competence = models.PositiveSmallIntegerField(
        _("questions drawn per competence"),
        null=True,
        blank=True,
        help_text=_("Drawn at random for each attempt. Leave blank to ask every question."),
    )
    quiz_shuffle_options = models.BooleanField(_("shuffle the options"), default=True)
    quiz_pass_mark = _pass_mark_field(_("pass mark (%)"))
    quiz_max_attempts = models.PositiveSmallIntegerField(
        _("maximum attempts"), null=True, blank=True, default=3, help_text=_("Blank: unlimited.")
    )
    # Bounded: the date arithmetic of a cooldown or a deadline overflows past year 9999.
    quiz_cooldown_minutes = models.PositiveIntegerField(
        _("minutes between attempts"), default=0, validators=[AT_MOST_A_YEAR]
    )
    quiz_time_limit_minutes = models.PositiveIntegerField(
        _("time limit (minutes)"),
        null=True,
        blank=True,
        help_text=_("Blank: no limit."),
        validators=[AT_MOST_A_YEAR],
    )
    quiz_feedback = models.CharField(
        _("feedback shown"),
        max_length=16,
        choices=FeedbackPolicy.choices,
        default=FeedbackPolicy.IMMEDIATELY,
    )

    objects = ModulePageManager()
    base_form_class = ModulePageForm

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("objectives"),
        FieldPanel("format"),
        FieldPanel("duration_minutes"),
        FieldPanel("level"),
        FieldPanel("prerequisite_modules"),
        TargetsPanel("targets", label=_("Targeted competences"), min_num=1),
        MultiFieldPanel([FieldPanel("cover_image"), FieldPanel("cover_alt")], heading=_("Cover")),
        MultiFieldPanel(
            [
                FieldPanel("quiz_questions_per_competence"),
                FieldPanel("quiz_shuffle_options"),
                FieldPanel("quiz_pass_mark"),
                FieldPanel("quiz_max_attempts"),
                FieldPanel("quiz_cooldown_minutes"),
                FieldPanel("quiz_time_limit_minutes"),
                FieldPanel("quiz_feedback"),
                FieldPanel("quiz"),
            ],
            heading=_("Quiz"),
        ),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("objectives"),
        # Facilitators look modules up by what they train: « B1.2 », « gouvernance ».
        index.SearchField("trained_competences"),
        index.FilterField("format"),
        index.FilterField("duration_minutes"),
        index.FilterField("level_id"),
    ]
    parent_page_types = ["courses.TrackPage"]
    subpage_types = ["courses.LessonPage"]

    class Meta:
        verbose_name = _("module")
        verbose_name_plural = _("modules")

    def lessons(self) -> PageQuerySet:
        return LessonPage.objects.live().child_of(self).order_by("path")

    @property
    def has_quiz(self) -> bool:
        return len(self.quiz) > 0

    def live_prerequisites(self) -> PageQuerySet:
        prerequisites = self.prerequisite_modules.all()
        if isinstance(prerequisites, FakeQuerySet):
            # A preview, a draft or a revision: modelcluster holds the relation in
            # memory, in a list that knows no .live().
            return ModulePage.objects.live().filter(pk__in=[m.pk for m in prerequisites])
        return prerequisites.live()

    def clean(self) -> None:
        super().clean()
        errors = {}
        # Blank means no limit; 0 would mean no attempt at all, or an hourglass already empty.
        if self.quiz_max_attempts == 0:
            errors["quiz_max_attempts"] = _("At least 1. Leave blank for unlimited attempts.")
        if self.quiz_time_limit_minutes == 0:
            errors["quiz_time_limit_minutes"] = _(
                "At least 1 minute. Leave blank for no time limit."
            )
        if errors:
            raise ValidationError(errors)

    def clean_fields(self, exclude=None) -> None:
        """Field checks, then those on the page's relations (`RELATION_CHECKS`).

        These read the in-memory relations: after the admin form's save(commit=False),
        in a revision, when publishing. The admin form makes them on the submitted
        data and excludes them here, as Django lets excluded fields go unchecked:
        during its validation the relations still hold the stored rows.
        """
        exclude = set(exclude or ())
        errors: dict = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if not set(RELATION_CHECKS) <= exclude:
            self._check_relations(exclude, errors)
        if errors:
            raise ValidationError(errors)

    def _check_relations(self, exclude: set[str], errors: dict) -> None:
        targets = [t for t in self.targets.all() if t.competence_id and t.target_level_id]
        if "targets" not in exclude:
            track = TrackPage.objects.filter(path=self.path[: -self.steplen]).first()
            if messages := self.target_errors(targets, track):
                errors.setdefault(NON_FIELD_ERRORS, []).extend(messages)
            if "level" not in errors and (message := self.level_error(self.level, track)):
                errors["level"] = [message]
        if "quiz" not in exclude and "quiz" not in errors:
            # Required fields too: a draft may have kept a question half written.
            messages = incomplete_questions(self.quiz) + self.quiz_errors(self.quiz, targets)
            if message := file_question_error(self.quiz):
                messages.append(message)
            if messages:
                errors["quiz"] = messages
        if "prerequisite_modules" not in exclude:
            message = self.prerequisite_error(list(self.prerequisite_modules.all()))
            if message:
                errors["prerequisite_modules"] = [message]

    @staticmethod
    def level_error(level: Level | None, track: "TrackPage | None") -> str | None:
        """Why the module's level cannot be this one: a level of another framework."""
        framework = track.framework if track is not None else None
        if level is None or framework is None or level.framework_id == framework.pk:
            return None
        return _("This level belongs to another framework: choose one of %(framework)s.") % {
            "framework": framework.label
        }

    @staticmethod
    def target_errors(targets, track: "TrackPage | None") -> list[str]:
        """Messages for targets outside the framework of the module's track."""
        framework = track.framework if track is not None else None
        if framework is None:
            return []
        return [
            _(
                "« %(code)s » is a competence of %(framework)s; this module's track "
                "follows %(track_framework)s."
            )
            % {
                "code": target.competence.code,
                "framework": target.competence.block.framework.label,
                "track_framework": framework.label,
            }
            for target in targets
            if target.competence.block.framework_id != framework.pk
        ]

    @staticmethod
    def quiz_errors(quiz, targets) -> list[str]:
        """Messages for questions on a competence the targets lack, or at a foreign level."""
        framework_ids = {t.competence.block.framework_id for t in targets}
        level_codes: dict[int, set[str]] = {}
        for level in Level.objects.filter(framework_id__in=framework_ids):
            level_codes.setdefault(level.framework_id, set()).add(level.code)
        allowed = {
            t.competence.code: level_codes.get(t.competence.block.framework_id, set())
            for t in targets
        }
        return question_errors(quiz, allowed)

    def prerequisite_error(self, prerequisites) -> str | None:
        """Why these modules cannot be this one's prerequisites: itself, or a loop back to it.

        A learner would be refused such a module forever.
        """
        if self.pk is None:
            return None  # not saved yet: no module can ask for it
        if any(module.pk == self.pk for module in prerequisites):
            return _("« %(title)s » cannot be its own prerequisite.") % {"title": self.title}
        through = ModulePage.prerequisite_modules.through
        asked_by = {module.pk: None for module in prerequisites}  # reached -> who asks for it
        frontier = set(asked_by)
        while frontier:
            # This module's stored prerequisites are the ones being replaced.
            edges = (
                through.objects.filter(from_modulepage_id__in=frontier)
                .exclude(from_modulepage_id=self.pk)
                .values_list("from_modulepage_id", "to_modulepage_id")
            )
            frontier = set()
            for source, target in edges:
                if target == self.pk:
                    return self._loop_message(source, asked_by)
                if target not in asked_by:
                    asked_by[target] = source
                    frontier.add(target)
        return None

    def _loop_message(self, last: int, asked_by: dict[int, int | None]) -> str:
        loop = [last]
        while asked_by[loop[-1]] is not None:
            loop.append(asked_by[loop[-1]])
        titles = dict(ModulePage.objects.filter(pk__in=loop).values_list("pk", "title"))
        names = [self.title, *(titles[pk] for pk in reversed(loop)), self.title]
        return _(
            "These prerequisites make a loop: %(loop)s. Learners could never start these modules."
        ) % {"loop": " → ".join(f"« {name} »" for name in names)}

    def with_content_json(self, content):
        page = super().with_content_json(content)
        # A revision keeps the ids of its targets. A row deleted since (a target removed,
        # then this revision restored) would go back to the form as a hidden id that no
        # longer exists, an error shown nowhere, and the page could not be saved any more:
        # it becomes a new row instead.
        kept = [target for target in page.targets.all() if target.pk is not None]
        if kept:
            stored = set(
                ModuleCompetence.objects.filter(pk__in=[t.pk for t in kept]).values_list(
                    "pk", flat=True
                )
            )
            for target in kept:
                if target.pk not in stored:
                    target.pk = None
                    target._state.adding = True
        return page

    def trained_competences(self) -> str:
        """The codes and titles of the competences targeted, for the search index."""
        return " ".join(
            f"{target.competence.code} {target.competence.title}"
            for target in self.targets.select_related("competence")
        )

    def save(self, *args, **kwargs):
        saved = super().save(*args, **kwargs)
        # The index was written on post_save, before modelcluster committed the targets
        # that `trained_competences` reads: written again, now that they are stored.
        index.insert_or_update_object(self)
        return saved

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # Lazy, even the building of the querysets: a learner's module page kept
        # in the cache (learners/page_versions.py) never reads them.
        context["targets"] = SimpleLazyObject(
            lambda: self.targets.select_related("competence", "target_level").order_by("sort_order")
        )
        context["prerequisites"] = SimpleLazyObject(self.live_prerequisites)
        context["lessons"] = SimpleLazyObject(lambda: self.lessons().defer_streamfields())
        return context


class ModuleCompetence(Orderable):
    """A competence a module trains, and the level it takes a learner to."""

    module = ParentalKey(ModulePage, on_delete=models.CASCADE, related_name="targets")
    competence = models.ForeignKey(
        Competence,
        verbose_name=_("competence"),
        on_delete=models.PROTECT,
        related_name="module_targets",
    )
    target_level = models.ForeignKey(
        Level, verbose_name=_("target level"), on_delete=models.PROTECT, related_name="+"
    )

    panels = [FieldPanel("competence"), FieldPanel("target_level")]

    class Meta(Orderable.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["module", "competence"], name="module_competence_unique"
            )
        ]
        verbose_name = _("targeted competence")
        verbose_name_plural = _("targeted competences")

    def clean(self) -> None:
        if (
            self.competence_id
            and self.target_level_id
            and self.target_level.framework_id != self.competence.block.framework_id
        ):
            raise ValidationError(
                {"target_level": _("The level must belong to the competence's framework.")}
            )


class LessonPage(Page):
    estimated_minutes = models.PositiveIntegerField(_("estimated time (minutes)"), default=10)
    body = StreamField(LessonStreamBlock(), verbose_name=_("content"))

    content_panels = Page.content_panels + [FieldPanel("estimated_minutes"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("body")]
    parent_page_types = ["courses.ModulePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # Lazy: a learner's lesson kept in the cache (learners/page_versions.py) never asks.
        context["module"] = SimpleLazyObject(lambda: ModulePage.objects.parent_of(self).first())
        return context
