"""Operations on frameworks and the page tree."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from courses.frameworks_io import FrameworkFileError, Problem
from courses.models import Block, Competence, CompetenceCrosswalk, Framework, Level

CREATE, UPDATE, KEEP = "create", "update", "keep"
KINDS = ["framework", "level", "block", "competence", "crosswalk"]


@dataclass(frozen=True)
class Change:
    """One thing an import creates, updates, or finds in the database but not in the file."""

    action: str
    kind: str
    framework: str
    code: str
    fields: tuple[str, ...] = ()


@dataclass
class ImportReport:
    changes: list[Change] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return any(change.action != KEEP for change in self.changes)

    def counts(self) -> list[dict[str, Any]]:
        """Per kind of object: how many are created, updated and kept as they are."""
        counter = Counter((change.kind, change.action) for change in self.changes)
        return [
            {
                "kind": kind,
                CREATE: counter[(kind, CREATE)],
                UPDATE: counter[(kind, UPDATE)],
                KEEP: counter[(kind, KEEP)],
            }
            for kind in KINDS
            if any(counter[(kind, action)] for action in (CREATE, UPDATE, KEEP))
        ]

    def of(self, action: str) -> list[Change]:
        return [change for change in self.changes if change.action == action]


class _DryRun(Exception):
    """Raised inside the transaction of a dry run so that nothing stays written."""


def import_frameworks(frameworks: list[dict[str, Any]], *, dry_run: bool = False) -> ImportReport:
    """Create or update every framework of a parsed file, all or nothing.

    A dry run performs the very same writes and rolls them back, so that the
    preview cannot disagree with what applying does.
    """
    report = ImportReport(dry_run=dry_run)
    try:
        with transaction.atomic():
            for data in frameworks:
                import_framework_data(data, report)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except IntegrityError as error:
        # Checks on the file cannot see every clash with stored rows (a level code
        # kept at another rank, for instance): the database has the last word.
        raise FrameworkFileError(
            [Problem("", _("The file clashes with stored data: %(error)s") % {"error": error})]
        ) from None
    return report


@transaction.atomic
def import_framework_data(
    data: dict[str, Any], report: ImportReport | None = None
) -> tuple[Framework, bool]:
    """Create or update the framework described by `data` (the shared JSON format).

    Returns the framework and whether anything changed. The caller validates first
    (courses.frameworks_io). Nothing is deleted: blocks, competences and levels the
    file leaves out are kept, and the report lists them. Keys absent from `data`
    (a CSV carries no levels) leave the stored values alone.
    """
    report = report if report is not None else ImportReport()
    before = len(report.of(CREATE)) + len(report.of(UPDATE))
    code, version = data["code"], str(data["version"])
    label = f"{code} {version}"

    framework = Framework.objects.filter(code=code, version=version).first()
    created = framework is None
    if created:
        # Importing a new version of a known code links it to the newest stored one.
        framework = Framework(
            code=code, version=version, previous_version=Framework.objects.latest_of(code)
        )
    values = {"title": data["title"]}
    for name in ("kind", "awarding_body", "note", "sources", "specialisations"):
        if name in data:
            values[name] = data[name] or ([] if name in {"sources", "specialisations"} else "")
    if data.get("target_level") is not None:
        values["target_level_rank"] = int(data["target_level"])
    dirty = _assign(framework, values)
    if created or dirty:
        framework.save()
        report.changes.append(
            Change(CREATE if created else UPDATE, "framework", label, code, dirty)
        )

    if "levels" in data:
        stored = {level.code: level for level in framework.levels.all()}
        for level_data in data["levels"]:
            _save(
                report,
                label,
                "level",
                stored.pop(level_data["code"], None) or Level(framework=framework),
                {
                    "code": level_data["code"],
                    "rank": int(level_data["rank"]),
                    "label": level_data["label"],
                    "descriptor": level_data.get("descriptor", ""),
                },
            )
        _keep(report, label, "level", stored)

    stored_blocks = {block.code: block for block in framework.blocks.all()}
    stored_competences = {c.code: c for c in Competence.objects.of_framework(framework)}
    for block_order, block_data in enumerate(data.get("blocks", []), start=1):
        block = _save(
            report,
            label,
            "block",
            stored_blocks.pop(block_data["code"], None) or Block(framework=framework),
            {
                "code": block_data["code"],
                "title": block_data["title"],
                "description": block_data.get("description", ""),
                "order": block_order,
            },
        )
        for order, competence_data in enumerate(block_data.get("competences", []), start=1):
            # Looked up across the framework: a competence may move to another block.
            _save(
                report,
                label,
                "competence",
                stored_competences.pop(competence_data["code"], None) or Competence(),
                {
                    "block": block,
                    "code": competence_data["code"],
                    "title": competence_data["title"],
                    "description": competence_data.get("description", ""),
                    "external_uri": competence_data.get("external_uri", ""),
                    "order": order,
                },
            )
    _keep(report, label, "block", stored_blocks)
    _keep(report, label, "competence", stored_competences)

    if created and framework.previous_version is not None:
        for crosswalk in declare_identity_crosswalks(framework.previous_version, framework):
            report.changes.append(Change(CREATE, "crosswalk", label, str(crosswalk)))
    return framework, len(report.of(CREATE)) + len(report.of(UPDATE)) > before


def _assign(obj: models.Model, values: dict[str, Any]) -> tuple[str, ...]:
    dirty = []
    for name, value in values.items():
        if isinstance(value, models.Model):
            same = getattr(obj, f"{name}_id") == value.pk
        else:
            same = getattr(obj, name) == value
        if not same:
            setattr(obj, name, value)
            dirty.append(name)
    return tuple(dirty)


def _save(report: ImportReport, label: str, kind: str, obj: models.Model, values: dict[str, Any]):
    created = obj.pk is None
    dirty = _assign(obj, values)
    if created:
        obj.save()
        report.changes.append(Change(CREATE, kind, label, values["code"]))
    elif dirty:
        obj.save(update_fields=list(dirty))
        report.changes.append(Change(UPDATE, kind, label, values["code"], dirty))
    return obj


def _keep(report: ImportReport, label: str, kind: str, left_out: dict[str, Any]) -> None:
    for code in left_out:
        report.changes.append(Change(KEEP, kind, label, code))


@transaction.atomic
def new_version(framework: Framework, version: str) -> Framework:
    """Copy `framework` into a new draft version; the old one stays as it is.

    Levels, blocks and competences are copied with their codes, and every copied
    competence gets an identity crosswalk (old code → same code) so that evidence
    gathered on the old version counts for the new one.
    """
    version = version.strip()
    try:
        Framework._meta.get_field("version").run_validators(version)
        if not version:
            raise ValidationError(_("This field is required."))
    except ValidationError as error:
        raise ValidationError({"version": error.messages}) from None
    if Framework.objects.filter(code=framework.code, version=version).exists():
        raise ValidationError(
            {"version": _("Version %(version)s already exists.") % {"version": version}}
        )
    copy = Framework.objects.create(
        code=framework.code,
        version=version,
        title=framework.title,
        kind=framework.kind,
        awarding_body=framework.awarding_body,
        note=framework.note,
        sources=list(framework.sources),
        specialisations=list(framework.specialisations),
        target_level_rank=framework.target_level_rank,
        status=Framework.Status.DRAFT,
        previous_version=framework,
    )
    Level.objects.bulk_create(
        Level(
            framework=copy,
            rank=level.rank,
            code=level.code,
            label=level.label,
            descriptor=level.descriptor,
        )
        for level in framework.levels.all()
    )
    for block in framework.blocks.prefetch_related("competences"):
        block_copy = Block.objects.create(
            framework=copy,
            code=block.code,
            title=block.title,
            description=block.description,
            order=block.order,
        )
        Competence.objects.bulk_create(
            Competence(
                block=block_copy,
                code=competence.code,
                title=competence.title,
                description=competence.description,
                external_uri=competence.external_uri,
                order=competence.order,
            )
            for competence in block.competences.all()
        )
    declare_identity_crosswalks(framework, copy)
    return copy


def declare_identity_crosswalks(old: Framework, new: Framework) -> list[CompetenceCrosswalk]:
    """Evidence on a competence of `old` counts for the competence of `new` with the same code."""
    old_by_code = {c.code: c for c in Competence.objects.of_framework(old)}
    existing = set(
        CompetenceCrosswalk.objects.filter(
            source__block__framework=old, target__block__framework=new
        ).values_list("source_id", "target_id")
    )
    crosswalks = [
        CompetenceCrosswalk(source=old_by_code[competence.code], target=competence)
        for competence in Competence.objects.of_framework(new).order_by("block__order", "order")
        if competence.code in old_by_code
        and (old_by_code[competence.code].pk, competence.pk) not in existing
    ]
    return CompetenceCrosswalk.objects.bulk_create(crosswalks)


def declare_crosswalk(
    old: Framework, old_code: str, new: Framework, new_code: str
) -> tuple[CompetenceCrosswalk, bool]:
    """Declare that evidence on `old_code` of `old` counts for `new_code` of `new`."""
    try:
        source = Competence.objects.of_framework(old).get(code=old_code)
        target = Competence.objects.of_framework(new).get(code=new_code)
    except Competence.DoesNotExist:
        raise ValidationError(_("No such competence in this framework.")) from None
    crosswalk = CompetenceCrosswalk(source=source, target=target)
    crosswalk.full_clean(validate_unique=False, validate_constraints=False)
    return CompetenceCrosswalk.objects.get_or_create(source=source, target=target)
