"""Small builders for frameworks and the page tree.

Plain functions rather than factory-boy factories: Wagtail pages must be placed
in the tree with `add_child`, which factory-boy's create strategy does not know.
"""

from django.conf import settings
from django.db import models, transaction
from django.test import override_settings
from django.utils.text import slugify
from wagtail.models import Page, Site
from wagtail.search.backends import get_search_backend

from courses.models import (
    Audience,
    Block,
    CatalogPage,
    Competence,
    Format,
    Framework,
    HomePage,
    LessonPage,
    Level,
    ModuleCompetence,
    ModulePage,
    TrackPage,
)

LEVELS = (("decouvrir", "Découvrir"), ("appliquer", "Appliquer"), ("maitriser", "Maîtriser"))
BLOCKS = {"B1": ("B1.1", "B1.2"), "B2": ("B2.1", "B2.2")}


def make_framework(
    code: str = "RS5142",
    *,
    levels: tuple[tuple[str, str], ...] = LEVELS,
    blocks: dict[str, tuple[str, ...]] = BLOCKS,
    status: str = Framework.Status.PUBLISHED,
) -> Framework:
    framework = Framework.objects.create(
        code=code, version="2025", title=f"Référentiel {code}", status=status
    )
    for rank, (level_code, label) in enumerate(levels, start=1):
        Level.objects.create(framework=framework, rank=rank, code=level_code, label=label)
    for order, (block_code, competence_codes) in enumerate(blocks.items(), start=1):
        block = Block.objects.create(
            framework=framework, code=block_code, title=f"Bloc {block_code}", order=order
        )
        for position, competence_code in enumerate(competence_codes, start=1):
            Competence.objects.create(
                block=block,
                code=competence_code,
                title=f"Compétence {competence_code}",
                order=position,
            )
    return framework


def make_catalogue_page() -> CatalogPage:
    """Home and catalogue pages, with the home page as the default site's root."""
    root = Page.get_first_root_node()
    home = root.add_child(instance=HomePage(title="Campus Tiers-Lieux", slug="campus"))
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": home},
    )
    return home.add_child(instance=CatalogPage(title="Catalogue", slug="catalogue"))


def make_track(
    catalogue: CatalogPage,
    framework: Framework | None = None,
    *,
    title: str = "Piloter un tiers-lieu",
    slug: str | None = None,
    audience: str = Audience.FACILITATORS,
) -> TrackPage:
    return catalogue.add_child(
        instance=TrackPage(
            title=title,
            slug=slug or title.lower().replace(" ", "-"),
            audience=audience,
            framework=framework,
            objectives="<p>Objectifs du parcours.</p>",
            duration_hours=10,
        )
    )


def make_module(
    track: TrackPage,
    title: str,
    *,
    competences: tuple[str, ...] = (),
    level: str | None = None,
    format: str = Format.ONLINE,
    duration_minutes: int = 60,
    summary: str = "Un module du catalogue.",
    slug: str | None = None,
) -> ModulePage:
    """A live module targeting `competences` (codes) of the track's framework."""
    framework = track.framework
    levels = {lvl.code: lvl for lvl in Level.objects.filter(framework=framework)}
    first_level = Level.objects.filter(framework=framework).order_by("rank").first()
    module = ModulePage(
        title=title,
        slug=slug or slugify(title),
        summary=summary,
        objectives="<p>Savoir faire.</p>",
        format=format,
        duration_minutes=duration_minutes,
        level=levels.get(level) if level else None,
    )
    module.targets = [
        ModuleCompetence(
            competence=Competence.objects.get(block__framework=framework, code=code),
            target_level=levels.get(level) or first_level,
            sort_order=position,
        )
        for position, code in enumerate(competences)
    ]
    return track.add_child(instance=module)


def make_lesson(module: ModulePage, title: str = "Première leçon") -> LessonPage:
    return module.add_child(
        instance=LessonPage(
            title=title,
            slug=slugify(title),
            body=[("paragraph", "<p>Un tiers-lieu naît d'un collectif.</p>")],
        )
    )


# Indexing (search, references) runs as tasks after each save; a dummy backend
# drops them, which halves the time to build a large catalogue.
SKIP_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@override_settings(TASKS=SKIP_TASKS)
@transaction.atomic
def make_catalogue(modules: int) -> CatalogPage:
    """A catalogue of `modules` modules over two tracks, built fast enough for query budgets.

    Modules cycle through competences, levels, formats and durations so that
    every facet has several values. Targets are bulk-created after the pages.
    The search index is filled once, in bulk, at the end.
    """
    framework = make_framework()
    levels = list(Level.objects.filter(framework=framework).order_by("rank"))
    competences = list(Competence.objects.of_framework(framework).order_by("code"))
    catalogue = make_catalogue_page()
    tracks = [
        make_track(catalogue, framework, title="Facilitateurs", audience=Audience.FACILITATORS),
        make_track(catalogue, framework, title="Agents publics", audience=Audience.PUBLIC_AGENTS),
    ]
    formats = list(Format.values)
    built: list[ModulePage] = []
    # Each page indexed on save makes PostgreSQL's backend rescan the whole index table
    # (its title norms): a thousand saves took five minutes there. Once, at the end.
    with _search_index_on_hold():
        for number in range(modules):
            track = tracks[number % 2]
            built.append(
                _place_child(
                    track,
                    number // 2 + 1,
                    ModulePage(
                        title=f"Module {number:04d}",
                        slug=f"module-{number:04d}",
                        summary="Un module du catalogue.",
                        objectives="<p>Savoir faire.</p>",
                        format=formats[number % len(formats)],
                        duration_minutes=30 + 15 * (number % 8),
                        level=levels[number % len(levels)],
                    ),
                )
            )
    for index, track in enumerate(tracks):
        TrackPage.objects.filter(pk=track.pk).update(numchild=len(built[index::2]))
    ModuleCompetence.objects.bulk_create(
        ModuleCompetence(
            module=module,
            competence=competences[(number + offset) % len(competences)],
            target_level=levels[-1],
            sort_order=offset,
        )
        for number, module in enumerate(built)
        for offset in range(2)
    )
    get_search_backend().add_bulk(ModulePage, built)
    return catalogue


def _search_index_on_hold():
    """Saves within it leave the search index alone (the caller fills it in bulk)."""
    backends = {
        name: {**params, "AUTO_UPDATE": False}
        for name, params in settings.WAGTAILSEARCH_BACKENDS.items()
    }
    return override_settings(WAGTAILSEARCH_BACKENDS=backends)


def _place_child(parent: Page, position: int, page: Page) -> Page:
    """Save `page` as the parent's `position`-th child without `add_child`.

    `add_child` looks up the last sibling and validates the whole page on each
    call, which makes a thousand modules take tens of seconds. The pages here
    are known to be valid and their slugs unique; the caller fixes `numchild`.
    """
    page.depth = parent.depth + 1
    page.path = Page._get_path(parent.path, page.depth, position)
    page.numchild = 0
    page.locale_id = parent.locale_id
    page._cached_parent_obj = parent  # what add_child does, so save() needs no lookup
    page.save(clean=False)
    return page


def make_sample_catalogue() -> dict[str, ModulePage]:
    """Five live modules (and one draft) whose facet counts the tests know by heart.

    | module       | track (audience)    | competences | level     | format     | min |
    | gouvernance  | piloter (facil.)    | B1.1, B1.2  | appliquer | en_ligne   |  90 |
    | economie     | piloter (facil.)    | B2.1        | maitriser | presentiel | 240 |
    | communaute   | piloter (facil.)    | B1.2, B2.2  | decouvrir | hybride    |  45 |
    | decouvrir    | sensibiliser (AP)   | B1.1        | decouvrir | en_ligne   |  30 |
    | cooperer     | sensibiliser (AP)   | B2.2        | appliquer | en_ligne   |  60 |
    """
    framework = make_framework()
    catalogue = make_catalogue_page()
    piloter = make_track(catalogue, framework, title="Piloter", slug="piloter")
    sensibiliser = make_track(
        catalogue,
        framework,
        title="Sensibiliser",
        slug="sensibiliser",
        audience=Audience.PUBLIC_AGENTS,
    )
    modules = {
        "gouvernance": make_module(
            piloter,
            "Gouvernance partagée",
            competences=("B1.1", "B1.2"),
            level="appliquer",
            duration_minutes=90,
            summary="Organiser la gouvernance du collectif et ses instances.",
        ),
        "economie": make_module(
            piloter,
            "Modèle économique",
            competences=("B2.1",),
            level="maitriser",
            format=Format.ON_SITE,
            duration_minutes=240,
            summary="Hybrider les ressources : location, services, subventions.",
        ),
        "communaute": make_module(
            piloter,
            "Animer une communauté",
            competences=("B1.2", "B2.2"),
            level="decouvrir",
            format=Format.BLENDED,
            duration_minutes=45,
            summary="Faire vivre le collectif au quotidien.",
        ),
        "decouvrir": make_module(
            sensibiliser,
            "Découvrir les tiers-lieux",
            competences=("B1.1",),
            level="decouvrir",
            duration_minutes=30,
            summary="Ce qu'est un tiers-lieu, et ce qu'il n'est pas.",
        ),
        "cooperer": make_module(
            sensibiliser,
            # Not « collectivité »: PostgreSQL's French stemming would match « collectif ».
            "Coopérer avec une commune",
            competences=("B2.2",),
            level="appliquer",
            duration_minutes=60,
            summary="Mettre des locaux à disposition sans piloter le projet.",
        ),
    }
    draft = make_module(piloter, "Brouillon caché", competences=("B1.1",), level="appliquer")
    draft.unpublish()
    return modules


@override_settings(TASKS=SKIP_TASKS)
@transaction.atomic
def add_live_modules(track: TrackPage, count: int) -> list[ModulePage]:
    """`count` live modules under `track`, each training two of its framework's competences.

    Several times faster than `add_child` in a loop, for query budgets at 1,000
    modules: tree paths are computed here and Wagtail's Page.save (validation,
    slug checks, log entry) is bypassed, so a module costs two INSERTs. The
    modules are not in the search index.
    """
    levels = list(Level.objects.filter(framework=track.framework).order_by("rank"))
    competences = list(Competence.objects.of_framework(track.framework).order_by("code"))
    last = track.get_last_child()
    first_step = int(last.path[-ModulePage.steplen :], 36) + 1 if last else 1
    modules = []
    for number in range(count):
        module = ModulePage(
            title=f"Module {number:04d}",
            draft_title=f"Module {number:04d}",
            slug=f"module-{number:04d}",
            summary="Un module du catalogue.",
            objectives="<p>Savoir faire.</p>",
            duration_minutes=60,
            path=ModulePage._get_path(track.path, track.depth + 1, first_step + number),
            depth=track.depth + 1,
            numchild=0,
            live=True,
            locale_id=track.locale_id,
        )
        module.set_url_path(track)
        models.Model.save(module)
        modules.append(module)
    Page.objects.filter(pk=track.pk).update(numchild=track.numchild + count)
    ModuleCompetence.objects.bulk_create(
        ModuleCompetence(
            module=module,
            competence=competences[(number + offset) % len(competences)],
            target_level=levels[-1],
            sort_order=offset,
        )
        for number, module in enumerate(modules)
        for offset in range(2)
    )
    return modules
