"""Small page trees for learner tests, independent of the demo content."""

from itertools import count

from courses.demo import build_site_tree
from courses.models import (
    Block,
    CatalogPage,
    Competence,
    Framework,
    LessonPage,
    Level,
    ModuleCompetence,
    ModulePage,
    TrackPage,
)
from learners.models import User

_serial = count(1)

LEVELS = [("decouvrir", "Découvrir"), ("appliquer", "Appliquer"), ("maitriser", "Maîtriser")]


def make_framework(
    code: str = "TEST",
    version: str = "1",
    blocks: dict[str, list[str]] | None = None,
    target_level_rank: int = 2,
) -> Framework:
    """A published framework with three levels; by default B1 (two competences) and B2 (one)."""
    framework = Framework.objects.create(
        code=code,
        version=version,
        title=f"Référentiel {code}",
        status=Framework.Status.PUBLISHED,
        target_level_rank=target_level_rank,
    )
    for rank, (level_code, label) in enumerate(LEVELS, start=1):
        Level.objects.create(framework=framework, rank=rank, code=level_code, label=label)
    for order, (block_code, competences) in enumerate(
        (blocks or {"B1": ["B1.1", "B1.2"], "B2": ["B2.1"]}).items(), start=1
    ):
        block = Block.objects.create(
            framework=framework, code=block_code, title=f"Bloc {block_code}", order=order
        )
        for c_order, competence_code in enumerate(competences, start=1):
            Competence.objects.create(
                block=block,
                code=competence_code,
                title=f"Compétence {competence_code}",
                order=c_order,
            )
    return framework


def competence(framework: Framework, code: str) -> Competence:
    return Competence.objects.get(block__framework=framework, code=code)


def level(framework: Framework, rank: int) -> Level:
    return Level.objects.get(framework=framework, rank=rank)


def catalogue() -> CatalogPage:
    _, catalogue_page, _ = build_site_tree()
    return catalogue_page


def make_track(
    framework: Framework, title: str = "Parcours test", slug: str | None = None
) -> TrackPage:
    return catalogue().add_child(
        instance=TrackPage(
            title=title,
            slug=slug or f"parcours-{next(_serial)}",
            audience="facilitateurs",
            framework=framework,
            objectives="<p>Objectifs.</p>",
            duration_hours=10,
        )
    )


def make_module(
    track: TrackPage,
    title: str,
    lessons: int = 2,
    targets: list[tuple[str, int]] = (),
    prerequisites: list[ModulePage] = (),
    owner: User | None = None,
) -> ModulePage:
    framework = track.framework
    module = ModulePage(
        title=title,
        slug=f"module-{next(_serial)}",
        summary=f"Résumé de {title}.",
        objectives="<p>Objectifs.</p>",
        duration_minutes=30,
        owner=owner,
    )
    module.targets = [
        ModuleCompetence(
            competence=competence(framework, code), target_level=level(framework, rank)
        )
        for code, rank in targets
    ]
    track.add_child(instance=module)
    if prerequisites:
        module.prerequisite_modules.set(list(prerequisites))
        module.save()
    for number in range(1, lessons + 1):
        module.add_child(
            instance=LessonPage(
                title=f"{title} — leçon {number}",
                slug=f"lecon-{next(_serial)}",
                body=[("paragraph", f"<p>Contenu {number}.</p>")],
            )
        )
    return module
