"""Skills frameworks (référentiels): framework → blocks → competences, with ordered levels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FrameworkQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Framework.Status.PUBLISHED)

    def latest_versions(self):
        """Frameworks that no newer version replaces."""
        return self.filter(next_versions__isnull=True)


class Framework(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    # Codes are stable identifiers: a new version keeps the code and changes `version`.
    code = models.CharField(_("code"), max_length=40)
    version = models.CharField(_("version"), max_length=20)
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


class Level(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="levels")
    rank = models.PositiveSmallIntegerField(_("rank"))
    code = models.CharField(_("code"), max_length=40)
    label = models.CharField(_("label"), max_length=100)
    descriptor = models.TextField(_("descriptor"), blank=True)

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


class Block(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="blocks")
    code = models.CharField(_("code"), max_length=40)
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
    def of_framework(self, framework: Framework):
        return self.filter(block__framework=framework)


class Competence(models.Model):
    block = models.ForeignKey(Block, on_delete=models.CASCADE, related_name="competences")
    code = models.CharField(_("code"), max_length=40)
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
