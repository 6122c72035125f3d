import pytest
from django.urls import reverse

from courses.models import Competence, Framework, Level, ModuleCompetence, ModulePage
from courses.services import new_version
from tests.courses.factories import (
    add_live_modules,
    make_catalogue_page,
    make_framework,
    make_track,
)


def make_framework_with_modules(modules: int) -> Framework:
    framework = make_framework()
    add_live_modules(make_track(make_catalogue_page(), framework), modules)
    return framework


def test_a_framework_page_shows_levels_blocks_competences_and_the_live_modules_that_train_them(
    client, db
):
    framework = make_framework_with_modules(4)
    Level.objects.filter(framework=framework, rank=2).update(descriptor="Met en œuvre, accompagné.")
    framework.target_level_rank = 2
    framework.save()
    Competence.objects.filter(code="B1.1").update(external_uri="http://data.europa.eu/esco/skill/x")
    ModulePage.objects.filter(title="Module 0000").update(live=False)

    response = client.get(reverse("courses:framework", args=["RS5142"]))

    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["framework"] == framework
    assert response.context["target_level"].code == "appliquer"
    assert [level.code for level in response.context["levels"]] == [
        "decouvrir",
        "appliquer",
        "maitriser",
    ]
    assert "Met en œuvre, accompagné." in html
    assert "http://data.europa.eu/esco/skill/x" in html
    trained = {
        competence.code: [target.module.title for target in competence.live_targets]
        for block in response.context["blocks"]
        for competence in block.competences.all()
    }
    # Module n trains competences n and n+1 of four (by code); module 0 is not live.
    assert trained == {
        "B1.1": ["Module 0003"],
        "B1.2": ["Module 0001"],
        "B2.1": ["Module 0001", "Module 0002"],
        "B2.2": ["Module 0002", "Module 0003"],
    }
    for title in ("Module 0001", "Module 0002", "Module 0003"):
        module = ModulePage.objects.get(title=title)
        assert f'href="{module.url}"' in html
    assert "Module 0000" not in html


def test_the_page_shows_the_newest_published_version_and_each_version_has_its_address(client, db):
    old = make_framework()
    draft = new_version(old, "2026")
    Framework.objects.filter(pk=draft.pk).update(title="Piloter, version 2026")

    assert client.get("/referentiels/RS5142/").context["framework"] == old
    assert client.get("/referentiels/RS5142/2026/").status_code == 404  # a draft is not public

    Framework.objects.filter(pk=draft.pk).update(status=Framework.Status.PUBLISHED)
    assert client.get("/referentiels/RS5142/").context["framework"] == draft
    assert client.get("/referentiels/RS5142/2025/").context["framework"] == old
    assert client.get("/referentiels/RS5142/2024/").status_code == 404


def test_an_unknown_or_unpublished_framework_is_not_found(client, db):
    make_framework("DRAFTY", status=Framework.Status.DRAFT)
    assert client.get("/referentiels/NOPE/").status_code == 404
    assert client.get("/referentiels/DRAFTY/").status_code == 404


def test_staff_may_preview_a_draft_version(client, staff):
    old = make_framework()
    new_version(old, "2026")
    client.force_login(staff)
    response = client.get("/referentiels/RS5142/2026/")
    assert response.status_code == 200
    assert response.context["framework"].version == "2026"


@pytest.mark.parametrize("modules", [10, 1000])
def test_the_framework_page_queries_do_not_grow_with_the_modules(
    client, db, modules, django_assert_max_num_queries
):
    make_framework_with_modules(modules)
    assert ModuleCompetence.objects.count() == 2 * modules

    with django_assert_max_num_queries(10):
        response = client.get("/referentiels/RS5142/")

    assert response.status_code == 200
    shown = sum(
        len(competence.live_targets)
        for block in response.context["blocks"]
        for competence in block.competences.all()
    )
    assert shown == 2 * modules
