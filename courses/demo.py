"""Demo content: frameworks, the site tree and the two demo tracks.

Every function is idempotent and returns how many things it created, so that
`seed_demo` can say whether a run changed anything.
"""

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from wagtail.models import Page, Site

from courses.assessments import stream_data
from courses.authoring import ensure_authoring_setup
from courses.models import (
    CatalogPage,
    Competence,
    Framework,
    HomePage,
    LessonPage,
    Level,
    ModuleCompetence,
    ModulePage,
    TrackPage,
)
from courses.services import import_framework_data

FRAMEWORK_FILES = ["rs5142-piloter-un-tiers-lieu.json", "sensibilisation-agents-publics.json"]
TRACK_FILES = ["parcours-facilitateurs.json", "parcours-agents-publics.json"]

TRACK_FIELDS = [
    "summary",
    "objectives",
    "prerequisites",
    "duration_hours",
    "access_terms",
    "access_delay",
    "price",
    "funding",
    "methods",
    "evaluation_terms",
    "accessibility",
    "disability_referent",
    "disability_contact",
    "contact",
]


def data_dir() -> Path:
    return Path(settings.CAMPUS_DATA_DIR)


def load_frameworks() -> int:
    created = 0
    for name in FRAMEWORK_FILES:
        data = json.loads((data_dir() / "referentiels" / name).read_text(encoding="utf-8"))
        framework, changed = import_framework_data(data)
        if changed:
            created += 1
        if framework.status != Framework.Status.PUBLISHED:
            framework.status = Framework.Status.PUBLISHED
            framework.save(update_fields=["status"])
    return created


@transaction.atomic
def build_site_tree() -> tuple[HomePage, CatalogPage, int]:
    created = 0
    home = HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node()
        home = root.add_child(
            instance=HomePage(title="Campus Tiers-Lieux", slug="accueil", seo_title="Accueil")
        )
        created += 1
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            Site.objects.create(
                hostname="localhost",
                port=80,
                root_page=home,
                is_default_site=True,
                site_name="Campus Tiers-Lieux",
            )
        else:
            old_root = site.root_page
            site.root_page = home
            site.site_name = "Campus Tiers-Lieux"
            site.save()
            # The "Welcome to Wagtail" page of a fresh install has no use here.
            if old_root.specific_class is Page and old_root.get_children_count() == 0:
                old_root.delete()
    catalogue = CatalogPage.objects.first()
    if catalogue is None:
        catalogue = home.add_child(
            instance=CatalogPage(
                title="Catalogue des formations",
                slug="catalogue",
                intro="<p>Tous les modules, par compétence, niveau, public et format.</p>",
            )
        )
        created += 1
    return home, catalogue, created


def build_tracks(catalogue: CatalogPage) -> int:
    created = 0
    for name in TRACK_FILES:
        path = data_dir() / "demo" / name
        if path.exists():
            created += build_track(catalogue, json.loads(path.read_text(encoding="utf-8")))
    return created


@transaction.atomic
def build_track(catalogue: CatalogPage, data: dict[str, Any]) -> int:
    existing = TrackPage.objects.filter(slug=data["slug"]).first()
    if existing is not None:
        return fill_empty_quizzes(existing, data)
    framework = Framework.objects.get(code=data["framework"])
    track = catalogue.add_child(
        instance=TrackPage(
            title=data["title"],
            slug=data["slug"],
            audience=data["audience"],
            framework=framework,
            positioning=stream_data(data.get("positioning", {}).get("questions", [])),
            **{field: data[field] for field in TRACK_FIELDS if field in data},
        )
    )
    created = 1
    modules_by_slug: dict[str, ModulePage] = {}
    for module_data in data["modules"]:
        module = _build_module(track, framework, module_data)
        modules_by_slug[module_data["slug"]] = module
        created += 1 + len(module_data.get("lessons", []))
    for module_data in data["modules"]:
        prerequisites = [modules_by_slug[slug] for slug in module_data.get("prerequisites", [])]
        if prerequisites:
            module = modules_by_slug[module_data["slug"]]
            module.prerequisite_modules.set(prerequisites)
            module.save_revision().publish()
    return created


def _build_module(track: TrackPage, framework: Framework, data: dict[str, Any]) -> ModulePage:
    levels = {level.code: level for level in Level.objects.filter(framework=framework)}
    competences = {c.code: c for c in Competence.objects.of_framework(framework)}
    module = ModulePage(
        title=data["title"],
        slug=data["slug"],
        summary=data["summary"],
        objectives=data["objectives"],
        format=data.get("format", "en_ligne"),
        duration_minutes=data["duration_minutes"],
        level=levels.get(data.get("level", "")),
        quiz=stream_data(data.get("quiz", {}).get("questions", [])),
        quiz_pass_mark=data.get("quiz", {}).get("pass_mark", 70),
        # Absent: the field's default (3); null: unlimited, as the track may promise.
        quiz_max_attempts=data.get("quiz", {}).get("max_attempts", 3),
    )
    module.targets = [
        ModuleCompetence(
            competence=competences[target["competence"]],
            target_level=levels[target["level"]],
        )
        for target in data["targets"]
    ]
    track.add_child(instance=module)
    module.save_revision().publish()
    for lesson_data in data.get("lessons", []):
        lesson = module.add_child(
            instance=LessonPage(
                title=lesson_data["title"],
                slug=lesson_data["slug"],
                estimated_minutes=lesson_data.get("estimated_minutes", 10),
                body=lesson_data["body"],
            )
        )
        lesson.save_revision().publish()
    return module


def fill_empty_quizzes(track: TrackPage, data: dict[str, Any]) -> int:
    """Demo databases seeded before quizzes existed get them, without touching edited ones."""
    created = 0
    if not len(track.positioning) and data.get("positioning"):
        track.positioning = stream_data(data["positioning"]["questions"])
        track.save_revision().publish()
        created += 1
    modules = {m.slug: m for m in ModulePage.objects.child_of(track)}
    for module_data in data["modules"]:
        module = modules.get(module_data["slug"])
        if module is None or len(module.quiz) or not module_data.get("quiz"):
            continue
        module.quiz = stream_data(module_data["quiz"]["questions"])
        module.quiz_pass_mark = module_data["quiz"].get("pass_mark", 70)
        module.save_revision().publish()
        created += 1
    return created


def seed() -> int:
    created = load_frameworks()
    _, catalogue, tree_created = build_site_tree()
    created += tree_created
    created += ensure_authoring_setup()
    created += build_tracks(catalogue)
    return created
