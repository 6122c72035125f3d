"""Skills frameworks (référentiels): framework → blocks → competences, with ordered levels."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# Codes end up in URLs (/referentiels/<code>/<version>/) and in CSV cells that
# people edit in spreadsheets: no spaces, no slashes.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
code_validator = RegexValidator(
    CODE_PATTERN,
    _("Use letters, digits, dots, hyphens and underscores only, starting with a letter or digit."),
)
CODE_IN_USE = _(
    "Modules, questions or learners' records already use this code: it cannot change. "
    "Create a new version of the framework to rename it."
)


class FrameworkQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Framework.Status.PUBLISHED)

    def latest_versions(self):
        """Frameworks that no newer version replaces."""
        return self.filter(next_versions__isnull=True)

    def newest_first(self):
        # Version labels are free text ("2025", "2025-bis"): creation order is the truth.
        return self.order_by("-created_at", "-pk")

    def latest_of(self, code: str) -> "Framework | None":
        return self.filter(code=code).newest_first().first()


class Framework(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    # Codes are stable identifiers: a new version keeps the code and changes `version`.
    code = models.CharField(_("code"), max_length=40, validators=[code_validator])
    version = models.CharField(_("version"), max_length=20, validators=[code_validator])
    title = models.CharField(_("title"), max_length=255)
    kind = models.CharField(_("kind"), max_length=255, blank=True)
    awarding_body = models.CharField(_("awarding body"), max_length=255, blank=True)
    note = models.TextField(_("note"), blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    specialisations = models.JSONField(_("specialisations"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    target_level_rank = models.PositiveSmallIntegerField(
        _("target level"),
        default=1,
        help_text=_("Rank of the level every competence must reach for its block to be validated."),
    )
    previous_version = models.ForeignKey(
        "self",
        verbose_name=_("previous version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_versions",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FrameworkQuerySet.as_manager()

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "version"], name="framework_code_version_unique"
            )
        ]
        verbose_name = _("skills framework")
        verbose_name_plural = _("skills frameworks")

    def __str__(self) -> str:
        return f"{self.code} — {self.title} ({self.version})"

    @property
    def target_level(self) -> "Level | None":
        return self.levels.filter(rank=self.target_level_rank).first()

    def competences(self) -> models.QuerySet["Competence"]:
        return Competence.objects.filter(block__framework=self).order_by("block__order", "order")

    @property
    def label(self) -> str:
        """How imports and previews name a framework: code and version."""
        return f"{self.code} {self.version}"

    def clean(self) -> None:
        levels = self.levels.all() if self.pk else Level.objects.none()
        if levels.exists() and not levels.filter(rank=self.target_level_rank).exists():
            raise ValidationError(
                {"target_level_rank": _("No level of this framework has this rank.")}
            )
        if self.pk and self.previous_version_id and self._replaces_itself():
            raise ValidationError(
                {
                    "previous_version": _(
                        "A framework cannot come after itself: choose a version it replaces."
                    )
                }
            )

    def _replaces_itself(self) -> bool:
        # Versions form a chain that pages and crosswalks walk back: a loop never ends.
        seen, current = {self.pk}, self.previous_version_id
        while current is not None:
            if current in seen:
                return True
            seen.add(current)
            current = (
                Framework.objects.filter(pk=current)
                .values_list("previous_version", flat=True)
                .first()
            )
        return False


class LevelQuerySet(models.QuerySet):
    def for_choices(self):
        """For a select: with their framework, grouped by framework, its newest version first."""
        return self.select_related("framework").order_by(
            "framework__code", "-framework__created_at", "framework_id", "rank"
        )

    def with_records(self) -> set[int]:
        """Ids of these levels that a learner's row points to: evidence reached, a grading.

        Found through the relations Django knows of, so that this app need not
        import the apps that keep learners' records.
        """
        ids = list(self.values_list("pk", flat=True))
        found: set[int] = set()
        for relation in Level._meta.get_fields(include_hidden=True):
            if not (relation.auto_created and relation.is_relation and not relation.concrete):
                continue
            field = relation.field
            # Modules targeting a level are authoring, not a learner's record.
            if field.model._meta.app_label == Level._meta.app_label:
                continue
            found.update(
                field.model._base_manager.filter(**{f"{field.name}__in": ids})
                .values_list(field.attname, flat=True)
                .distinct()
            )
        return found


class Level(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="levels")
    rank = models.PositiveSmallIntegerField(_("rank"))
    code = models.CharField(_("code"), max_length=40, validators=[code_validator])
    label = models.CharField(_("label"), max_length=100)
    descriptor = models.TextField(_("descriptor"), blank=True)

    objects = LevelQuerySet.as_manager()

    class Meta:
        ordering = ["framework", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "rank"], name="level_rank_unique"),
            models.UniqueConstraint(fields=["framework", "code"], name="level_code_unique"),
        ]
        verbose_name = _("level")
        verbose_name_plural = _("levels")

    def __str__(self) -> str:
        return f"{self.rank}. {self.label}"

    def clean(self) -> None:
        # Evidence says « reached level N of this framework »: moving the level would
        # change, for every learner at once and without re-evaluating anything, what
        # they reached. A new scale is a new version of the framework.
        if self.pk is None:
            return
        stored = Level.objects.filter(pk=self.pk).values("rank", "framework_id", "code").first()
        moved = stored is not None and (
            stored["rank"] != self.rank or stored["framework_id"] != self.framework_id
        )
        if moved and Level.objects.filter(pk=self.pk).with_records():
            raise ValidationError(
                _(
                    "Learners' records point to this level: its rank and framework cannot "
                    "change. Create a new version of the framework for a new scale."
                )
            )
        if moved and self._leaves_target_rank_empty(stored):
            raise ValidationError(
                {
                    "rank": _(
                        "This level is its framework's target level: choose another target "
                        "level for the framework before moving this one."
                    )
                }
            )
        if stored is not None and stored["code"] != self.code and self._code_in_use(stored["code"]):
            raise ValidationError({"code": CODE_IN_USE})

    def _leaves_target_rank_empty(self, stored: dict) -> bool:
        framework = Framework.objects.filter(pk=stored["framework_id"]).first()
        return (
            framework is not None
            and framework.target_level_rank == stored["rank"]
            and not framework.levels.filter(rank=stored["rank"]).exclude(pk=self.pk).exists()
            and (self.framework_id, self.rank) != (stored["framework_id"], stored["rank"])
        )

    def _code_in_use(self, code: str) -> bool:
        # Quiz and positioning questions name their level by code: a new code would
        # leave them naming a level that no longer exists, and their evidence unwritten.
        from courses.models.pages import ModuleCompetence, ModulePage, TrackPage

        if (
            ModuleCompetence.objects.filter(target_level=self).exists()
            or ModulePage.objects.filter(level=self).exists()
            or Level.objects.filter(pk=self.pk).with_records()
        ):
            return True
        modules = ModulePage.objects.filter(
            targets__competence__block__framework_id=self.framework_id
        ).distinct()
        tracks = TrackPage.objects.filter(framework_id=self.framework_id)
        streams = [m.quiz for m in modules] + [t.positioning for t in tracks]
        return any(q.value.get("level") == code for stream in streams for q in stream)


class Block(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="blocks")
    code = models.CharField(_("code"), max_length=40, validators=[code_validator])
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["framework", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="block_code_unique")
        ]
        verbose_name = _("block")
        verbose_name_plural = _("blocks")

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"


class CompetenceQuerySet(models.QuerySet):
    def for_choices(self):
        """For a select: with their framework, grouped by framework, its newest version first."""
        return self.select_related("block__framework").order_by(
            "block__framework__code",
            "-block__framework__created_at",
            "block__framework_id",
            "block__order",
            "order",
            "code",
        )

    def of_framework(self, framework: Framework):
        return self.filter(block__framework=framework)

    def counting_for(self, competences: "Competence | Iterable[Competence]"):
        """Competences whose evidence counts for `competences`: themselves and, through
        crosswalks, their predecessors in older versions (transitively)."""
        if isinstance(competences, Competence):
            competences = [competences]
        targets = {competence.pk for competence in competences}
        return self.filter(pk__in=set().union(*crosswalk_sources(targets).values(), targets))


def crosswalk_sources(competence_ids: Iterable[int]) -> dict[int, set[int]]:
    """For each competence id, the ids whose evidence counts for it (itself included).

    One query per generation of versions walked back, whatever the number of
    competences: the ledger asks this for a whole framework at once.
    """
    sources = {pk: {pk} for pk in competence_ids}
    reached_by = {pk: {pk} for pk in sources}  # id reached -> the asked ids it counts for
    frontier = set(sources)
    while frontier:
        edges = CompetenceCrosswalk.objects.filter(target_id__in=frontier).values_list(
            "source_id", "target_id"
        )
        next_frontier: set[int] = set()
        for source_id, target_id in edges:
            for asked in reached_by[target_id]:
                # A cycle of crosswalks (A → B → A) stops here instead of looping.
                if source_id not in sources[asked]:
                    sources[asked].add(source_id)
                    reached_by.setdefault(source_id, set()).add(asked)
                    next_frontier.add(source_id)
        frontier = next_frontier
    return sources


class Competence(models.Model):
    block = models.ForeignKey(Block, on_delete=models.CASCADE, related_name="competences")
    code = models.CharField(_("code"), max_length=40, validators=[code_validator])
    title = models.CharField(_("title"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    external_uri = models.URLField(
        _("external URI"), blank=True, help_text=_("For example an ESCO skill.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = CompetenceQuerySet.as_manager()

    class Meta:
        ordering = ["block__order", "order", "code"]
        # Competence codes are unique in a block; the import also refuses a code
        # repeated across blocks of one framework.
        constraints = [
            models.UniqueConstraint(fields=["block", "code"], name="competence_code_unique")
        ]
        verbose_name = _("competence")
        verbose_name_plural = _("competences")

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"

    def _code_in_use(self, code: str) -> bool:
        """Quiz and positioning questions name their competence by code; modules' targets
        and learners' rows (evidence, answers to grade) point to it: a new code would
        cut the questions off from the evidence they write."""
        for relation in Competence._meta.get_fields(include_hidden=True):
            if relation.auto_created and relation.is_relation and not relation.concrete:
                field = relation.field
                if field.model is CompetenceCrosswalk:
                    continue  # crosswalks follow the row, whatever its code
                if field.model._base_manager.filter(**{field.name: self}).exists():
                    return True
        from courses.models.pages import TrackPage

        tracks = TrackPage.objects.filter(framework_id=self.block.framework_id)
        return any(
            question.value.get("competence") == code
            for track in tracks
            for question in track.positioning
        )

    def counting_competences(self) -> models.QuerySet["Competence"]:
        """Competences whose evidence counts for this one (itself included)."""
        return Competence.objects.counting_for(self)

    def clean(self) -> None:
        if self.pk is not None:
            stored = Competence.objects.filter(pk=self.pk).values_list("code", flat=True).first()
            if stored is not None and stored != self.code and self._code_in_use(stored):
                raise ValidationError({"code": CODE_IN_USE})
        # The database only knows codes per block; a framework-wide duplicate would
        # make crosswalks and CSV rows ambiguous.
        if self.block_id and self.code:
            clash = (
                Competence.objects.filter(
                    block__framework_id=self.block.framework_id, code=self.code
                )
                .exclude(pk=self.pk)
                .exists()
            )
            if clash:
                raise ValidationError(
                    {"code": _("Another competence of this framework already has this code.")}
                )


class CompetenceCrosswalk(models.Model):
    """Declares that evidence on `source` (an older version) counts for `target`."""

    source = models.ForeignKey(
        Competence,
        verbose_name=_("old competence"),
        on_delete=models.CASCADE,
        related_name="crosswalks_out",
    )
    target = models.ForeignKey(
        Competence,
        verbose_name=_("new competence"),
        on_delete=models.CASCADE,
        related_name="crosswalks_in",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="crosswalk_unique")
        ]
        verbose_name = _("crosswalk")
        verbose_name_plural = _("crosswalks")

    def __str__(self) -> str:
        return f"{self.source.code} → {self.target.code}"

    def clean(self) -> None:
        if self.source_id and self.source_id == self.target_id:
            raise ValidationError(_("A competence cannot be crosswalked to itself."))
