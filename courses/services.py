"""Operations on frameworks and the page tree."""

from typing import Any

from django.db import transaction

from courses.models import Block, Competence, Framework, Level


@transaction.atomic
def import_framework_data(data: dict[str, Any]) -> tuple[Framework, bool]:
    """Create or update the framework described by `data` (the shared JSON format).

    Returns the framework and whether anything changed. The caller validates first.
    """
    framework, created = Framework.objects.get_or_create(
        code=data["code"],
        version=str(data["version"]),
        defaults={"title": data["title"]},
    )
    changed = created
    fields = {
        "title": data["title"],
        "kind": data.get("kind", ""),
        "awarding_body": data.get("awarding_body", ""),
        "note": data.get("note", ""),
        "sources": data.get("sources", []),
        "specialisations": data.get("specialisations", []),
        "target_level_rank": int(data.get("target_level", 1)),
    }
    for name, value in fields.items():
        if getattr(framework, name) != value:
            setattr(framework, name, value)
            changed = True
    if changed:
        framework.save()

    for level_data in data.get("levels", []):
        _, level_changed = _upsert(
            Level,
            {"framework": framework, "rank": int(level_data["rank"])},
            {
                "code": level_data["code"],
                "label": level_data["label"],
                "descriptor": level_data.get("descriptor", ""),
            },
        )
        changed |= level_changed
    for block_order, block_data in enumerate(data.get("blocks", []), start=1):
        block, block_changed = _upsert(
            Block,
            {"framework": framework, "code": block_data["code"]},
            {
                "title": block_data["title"],
                "description": block_data.get("description", ""),
                "order": block_order,
            },
        )
        changed |= block_changed
        for order, competence_data in enumerate(block_data.get("competences", []), start=1):
            _, competence_changed = _upsert(
                Competence,
                {"block": block, "code": competence_data["code"]},
                {
                    "title": competence_data["title"],
                    "description": competence_data.get("description", ""),
                    "external_uri": competence_data.get("external_uri", ""),
                    "order": order,
                },
            )
            changed |= competence_changed
    return framework, changed


def _upsert(model, lookup: dict, values: dict) -> tuple[Any, bool]:
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        return model.objects.create(**lookup, **values), True
    dirty = {name: value for name, value in values.items() if getattr(obj, name) != value}
    if dirty:
        for name, value in dirty.items():
            setattr(obj, name, value)
        obj.save(update_fields=list(dirty))
    return obj, bool(dirty)
