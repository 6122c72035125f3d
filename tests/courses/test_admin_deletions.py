"""Staff deleting what learners' records or modules depend on are told why, not shown a 500."""

import pytest
from django.contrib.messages import get_messages
from wagtail.test.utils.form_data import rich_text

from courses.models import Block, CatalogPage, ModulePage
from learners.models import Attempt
from tests.courses.admin_forms import ADMIN, page_form
from tests.courses.factories import make_catalogue_page, make_framework, make_module, make_track


@pytest.fixture
def track(db):
    return make_track(make_catalogue_page(), make_framework())


def _said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_module_learners_have_records_on_is_not_deleted_and_staff_are_told_why(
    client, demo, staff
):
    module = Attempt.objects.filter(module__isnull=False).first().module
    client.force_login(staff)

    opened = client.get(f"{ADMIN}/pages/{module.pk}/delete/")
    confirmed = client.post(f"{ADMIN}/pages/{module.pk}/delete/")

    for response in (opened, confirmed):
        assert (response.status_code, response.url) == (302, f"{ADMIN}/pages/{module.pk}/edit/")
    [message, *_] = _said(confirmed)
    assert message.startswith(f"« {module.title} » ne peut pas être supprimé")
    assert "tentatives" in message and "Dépubliez-le" in message
    assert ModulePage.objects.filter(pk=module.pk).exists()


def test_a_module_nobody_followed_is_deleted(client, staff, track):
    module = make_module(track, "Brouillon abandonné", competences=("B1.1",))
    client.force_login(staff)

    client.post(f"{ADMIN}/pages/{module.pk}/delete/")

    assert not ModulePage.objects.filter(pk=module.pk).exists()


def test_a_block_whose_competence_a_module_targets_is_not_deleted(client, staff, track):
    module = make_module(track, "Gouvernance partagée", competences=("B1.1",))
    block = module.targets.get().competence.block
    client.force_login(staff)

    response = client.post(f"{ADMIN}/blocks/delete/{block.pk}/")

    assert response.status_code == 302
    [message] = _said(response)
    assert message.startswith(f"Impossible de supprimer « {block} »")
    assert "compétences visées" in message
    # A block is never unpublished: the way forward is a new version of the framework.
    assert "Dépubliez" not in message and "créez-en une nouvelle version" in message
    assert Block.objects.filter(pk=block.pk).exists()


def test_a_new_track_is_previewed_before_its_first_save(client, staff, track):
    client.force_login(staff)
    url = f"{ADMIN}/pages/add/courses/trackpage/{CatalogPage.objects.get().pk}/"
    data = page_form(
        client,
        url,
        title="Parcours en préparation",
        slug="parcours-en-preparation",
        audience="facilitateurs",
        objectives=rich_text("<p>Piloter un tiers-lieu.</p>"),
        duration_hours="3",
    )

    client.post(url + "preview/", data)
    response = client.get(url + "preview/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Parcours en préparation" in page
    assert "inscrivent ici une fois la page enregistrée" in page
