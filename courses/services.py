"""Operations on frameworks and the page tree."""

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from courses.frameworks_io import MAX_ITEMS, FrameworkFileError, Problem
from courses.models import Block, Competence, CompetenceCrosswalk, Framework, Level

logger = logging.getLogger(__name__)

CREATE, UPDATE, KEEP = "create", "update", "keep"
KINDS = ["framework", "level", "block", "competence", "crosswalk"]


MODEL_OF_KIND = {
    "framework": Framework,
    "level": Level,
    "block": Block,
    "competence": Competence,
    "crosswalk": CompetenceCrosswalk,
}


def kind_label(kind: str) -> str:
    """The kind as staff read it in the admin, in their language."""
    return str(MODEL_OF_KIND[kind]._meta.verbose_name)


@dataclass(frozen=True)
class Change:
    """One thing an import creates, updates, or finds in the database but not in the file."""

    action: str
    kind: str
    framework: str
    code: str
    fields: tuple[str, ...] = ()

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def field_labels(self) -> list[str]:
        fields = MODEL_OF_KIND[self.kind]._meta
        return [str(fields.get_field(name).verbose_name) for name in self.fields]


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
                "kind_label": kind_label(kind),
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
                label = f"{data['code']} {data['version']}"
                try:
                    import_framework_data(data, report)
                except (IntegrityError, DataError) as error:
                    # Checks on the file cannot see every clash with stored rows (nor a
                    # concurrent import): the database has the last word. Raised inside
                    # the transaction, so that the frameworks before are rolled back too.
                    constraint = (
                        _constraint_name(error) if isinstance(error, IntegrityError) else ""
                    )
                    logger.warning(
                        "Import of framework %s refused by the database (%s): %s",
                        label,
                        constraint or type(error).__name__,
                        error,
                    )
                    raise FrameworkFileError(
                        [_database_problem(error, constraint, label)]
                    ) from None
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


# The database's own messages are English and name tables: people read these instead.
CONSTRAINT_MESSAGES = {
    "framework_code_version_unique": gettext_lazy(
        "Framework %(framework)s was created by someone else meanwhile: upload the file again."
    ),
    "level_rank_unique": gettext_lazy(
        "Two levels of framework %(framework)s would have the same rank."
    ),
    "level_code_unique": gettext_lazy(
        "Two levels of framework %(framework)s would have the same code."
    ),
    "block_code_unique": gettext_lazy(
        "Two blocks of framework %(framework)s would have the same code."
    ),
    "competence_code_unique": gettext_lazy(
        "Two competences of one block of framework %(framework)s would have the same code."
    ),
}
CONSTRAINT_MODELS = (Framework, Level, Block, Competence, CompetenceCrosswalk)


def _database_problem(error: IntegrityError | DataError, constraint: str, label: str) -> Problem:
    if isinstance(error, DataError):
        message = _(
            "A value of framework %(framework)s cannot be stored (too long, too large or with "
            "a character the database refuses): nothing was imported."
        )
    else:
        message = CONSTRAINT_MESSAGES.get(constraint) or _(
            "Framework %(framework)s clashes with stored data: nothing was imported."
        )
    return Problem("", str(message) % {"framework": label})


def _constraint_name(error: IntegrityError) -> str:
    """The name of the constraint `error` is about, or "" when it cannot be told."""
    # PostgreSQL names it; SQLite names the columns ("UNIQUE constraint failed: t.a, t.b").
    diag = getattr(error.__cause__, "diag", None)
    if name := getattr(diag, "constraint_name", None):
        return name
    columns = str(error).partition(":")[2].strip()
    for model in CONSTRAINT_MODELS:
        table = model._meta.db_table
        for constraint in model._meta.constraints:
            names = getattr(constraint, "fields", ())
            spelt = ", ".join(f"{table}.{model._meta.get_field(f).column}" for f in names)
            if constraint.name in str(error) or (names and columns == spelt):
                return constraint.name
    return ""


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
        _make_room_for_ranks(label, stored, data["levels"])
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


def _make_room_for_ranks(label: str, stored: dict[str, Level], levels: list[dict]) -> None:
    """Park the stored levels that change rank on spare ranks before any takes its new one.

    Ranks are unique per framework and checked row by row: swapping L1 and L2 in
    place would clash on the first write. The stored objects keep their old rank
    in memory, so the second pass still sees (and reports) the change.
    """
    final = {level["code"]: int(level["rank"]) for level in levels}
    kept = [level for code, level in stored.items() if code not in final]
    if taken := [level for level in kept if level.rank in set(final.values())]:
        # A level the file leaves out is kept, rank included: it cannot be moved aside.
        raise FrameworkFileError(
            [
                Problem(
                    "levels",
                    _(
                        "Framework %(framework)s: level %(code)s is stored at rank %(rank)s and "
                        "is not in the file, so no other level can take that rank."
                    )
                    % {"framework": label, "code": level.code, "rank": level.rank},
                )
                for level in taken
            ]
        )
    moving = [
        level for code, level in stored.items() if code in final and final[code] != level.rank
    ]
    # As in the admin (Level.clean): evidence at a level keeps the rank it was reached at.
    if in_use := Level.objects.filter(pk__in=[level.pk for level in moving]).with_records():
        raise FrameworkFileError(
            [
                Problem(
                    "levels",
                    _(
                        "Framework %(framework)s: learners' records point to level %(code)s, "
                        "so it stays at rank %(rank)s. Import the new scale as a new version."
                    )
                    % {"framework": label, "code": level.code, "rank": level.rank},
                )
                for level in moving
                if level.pk in in_use
            ]
        )
    used = {level.rank for level in stored.values()} | set(final.values())
    spare = (rank for rank in range(MAX_ITEMS, -1, -1) if rank not in used)
    for level in moving:
        rank = next(spare, None)
        if rank is None:
            raise FrameworkFileError(
                [
                    Problem(
                        "levels",
                        _("A framework may have at most %(max)s levels.") % {"max": MAX_ITEMS},
                    )
                ]
            )
        Level.objects.filter(pk=level.pk).update(rank=rank)


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
    try:
        # The unique constraint, not a look beforehand: two requests (a double
        # click) would both find the version free, and the second fail with a 500.
        with transaction.atomic():
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
    except IntegrityError:
        raise ValidationError(
            {"version": _("Version %(version)s already exists.") % {"version": version}}
        ) from None
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
