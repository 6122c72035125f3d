"""Authors preview a module before saving it, and look at its drafts and revisions."""

import pytest

from courses.authoring import ensure_authoring_setup
from courses.models import ModulePage
from learners.services import enrol
from tests.courses.admin_forms import (
    ADMIN,
    add_module_url,
    edit_url,
    module_fields,
    page_form,
    targets_data,
)
from tests.courses.factories import (
    make_catalogue_page,
    make_framework,
    make_lesson,
    make_module,
    make_track,
)


@pytest.fixture
def track(db):
    return make_track(make_catalogue_page(), make_framework())


@pytest.fixture
def module(track) -> ModulePage:
    """A live module that asks for another one first, with a lesson."""
    basics = make_module(track, "Les bases du tiers-lieu", competences=("B1.1",))
    module = make_module(track, "Gouvernance partagée", competences=("B1.2",))
    module.prerequisite_modules = [basics]
    module.save_revision().publish()
    make_lesson(module, "Qui décide de quoi")
    return ModulePage.objects.get(pk=module.pk)


def preview(client, url: str, data: dict) -> str:
    """Post the form to the preview, then open it, as the preview panel does."""
    assert client.post(url, data).json()["is_valid"]
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_module_with_prerequisites_previews_from_its_edit_form(client, staff, module):
    client.force_login(staff)
    data = page_form(client, edit_url(module), summary="Un résumé revu pour l'aperçu.")

    html = preview(client, f"{edit_url(module)}preview/", data)

    assert "Un résumé revu pour l&#x27;aperçu." in html
    assert "Les bases du tiers-lieu" in html  # the prerequisite, as the form holds it
    assert "Qui décide de quoi" in html


def test_the_preview_shows_the_prerequisites_of_the_form_not_the_stored_ones(
    client, staff, module, track
):
    other = make_module(track, "Modèle économique", competences=("B2.1",))
    client.force_login(staff)
    data = page_form(client, edit_url(module))
    data.setlist("prerequisite_modules", [str(other.pk)])

    html = preview(client, f"{edit_url(module)}preview/", data)

    assert "Modèle économique" in html
    assert "Les bases du tiers-lieu" not in html


def test_an_enrolled_author_previews_the_module_with_its_quiz_box(client, karim, module, track):
    # The module page asks for the viewer's enrolment and missing prerequisites.
    ensure_authoring_setup()
    module.owner = karim
    module.save_revision().publish()
    enrol(karim, track)
    client.force_login(karim)
    data = page_form(client, edit_url(module))

    assert "Gouvernance partagée" in preview(client, f"{edit_url(module)}preview/", data)


def test_a_module_not_saved_yet_previews_from_the_add_form(client, staff, track, module):
    framework = track.framework
    client.force_login(staff)
    url = add_module_url(track)
    data = page_form(
        client,
        url,
        **module_fields("Un module pas encore créé"),
        **targets_data(
            (framework.competences().get(code="B2.2"), framework.levels.get(rank=1), None, False)
        ),
    )
    data.setlist("prerequisite_modules", [str(module.pk)])

    html = preview(client, f"{url}preview/", data)

    assert "Un module pas encore créé" in html
    assert "Gouvernance partagée" in html
    assert not ModulePage.objects.filter(title="Un module pas encore créé").exists()


def test_the_draft_and_every_revision_of_a_module_render(client, staff, module, track):
    other = make_module(track, "Modèle économique", competences=("B2.1",))
    draft = ModulePage.objects.get(pk=module.pk)
    draft.prerequisite_modules = [other]
    draft.summary = "Le brouillon en cours."
    draft.save_revision()
    client.force_login(staff)

    response = client.get(f"{ADMIN}/pages/{module.pk}/view_draft/")
    assert response.status_code == 200
    assert "Le brouillon en cours." in response.content.decode()
    assert "Modèle économique" in response.content.decode()
    for revision in module.revisions.all():
        url = f"{ADMIN}/pages/{module.pk}/revisions/{revision.pk}/view/"
        assert client.get(url).status_code == 200, revision
