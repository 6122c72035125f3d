"""The Wagtail page tree: Home → Catalogue → Track → Module → Lesson."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page, PageManager, PageQuerySet
from wagtail.search import index

from courses.assessments import question_errors
from courses.blocks import RICH_TEXT_FEATURES, LessonStreamBlock
from courses.question_blocks import QuestionStreamBlock

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
        QuestionStreamBlock(),
        verbose_name=_("positioning questions"),
        blank=True,
        help_text=_("A short quiz learners take when they enter the track (Qualiopi 8)."),
    )
    positioning_pass_mark = _pass_mark_field(_("positioning pass mark (%)"))

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

    def modules(self) -> PageQuerySet:
        return ModulePage.objects.live().child_of(self).with_cards().order_by("path")

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
    quiz_cooldown_minutes = models.PositiveIntegerField(_("minutes between attempts"), default=0)
    quiz_time_limit_minutes = models.PositiveIntegerField(
        _("time limit (minutes)"), null=True, blank=True, help_text=_("Blank: no limit.")
    )
    quiz_feedback = models.CharField(
        _("feedback shown"),
        max_length=16,
        choices=FeedbackPolicy.choices,
        default=FeedbackPolicy.IMMEDIATELY,
    )

    objects = ModulePageManager()

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("objectives"),
        FieldPanel("format"),
        FieldPanel("duration_minutes"),
        FieldPanel("level"),
        FieldPanel("prerequisite_modules"),
        InlinePanel("targets", label=_("Targeted competences"), min_num=1),
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

    def clean(self) -> None:
        super().clean()
        # Targets are an inline panel: in the admin they are in memory, not saved yet.
        targets = [t for t in self.targets.all() if t.competence_id and t.target_level_id]
        framework_ids = {t.competence.block.framework_id for t in targets}
        level_codes: dict[int, set[str]] = {}
        for level in Level.objects.filter(framework_id__in=framework_ids):
            level_codes.setdefault(level.framework_id, set()).add(level.code)
        allowed = {
            t.competence.code: level_codes.get(t.competence.block.framework_id, set())
            for t in targets
        }
        errors = question_errors(self.quiz, allowed)
        if errors:
            raise ValidationError({"quiz": errors})

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # Lazy, even the building of the querysets: a learner's module page kept
        # in the cache (learners/page_versions.py) never reads them.
        context["targets"] = SimpleLazyObject(
            lambda: self.targets.select_related("competence", "target_level").order_by("sort_order")
        )
        context["prerequisites"] = SimpleLazyObject(lambda: self.prerequisite_modules.live())
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
