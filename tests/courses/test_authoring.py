"""Trainers author modules in the Wagtail admin; the operating team reviews and publishes."""

import html
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.text import slugify
from wagtail.models import WorkflowState
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from courses.authoring import (
    REVIEWERS_GROUP,
    TRAINERS_GROUP,
    WORKFLOW_NAME,
    ensure_authoring_setup,
)
from courses.models import CatalogPage, Framework, LessonPage, ModulePage, TrackPage
from learners.models import User
from tests.conftest import make_user
from tests.courses.admin_forms import ADMIN, edit_url, page_form
from tests.courses.factories import make_framework


@pytest.fixture
def track(demo) -> TrackPage:
    """A track of the demo catalogue, written by the operating team (owned by nobody)."""
    framework = Framework.objects.get(code="RS5142")
    return CatalogPage.objects.get().add_child(
        instance=TrackPage(
            title="Parcours de test",
            slug="parcours-de-test",
            audience="facilitateurs",
            framework=framework,
            objectives="<p>Piloter un tiers-lieu.</p>",
            duration_hours=10,
        )
    )


def create_module(client, track: TrackPage, title: str = "Ouvrir son lieu aux habitants"):
    competence = track.framework.competences().first()
    level = track.framework.levels.get(rank=2)
    url = f"{ADMIN}/pages/add/courses/modulepage/{track.pk}/"
    data = page_form(
        client,
        url,
        title=title,
        slug=slugify(title),
        summary="Accueillir, écouter, faire participer.",
        objectives=rich_text("<p>Organiser une réunion publique.</p>"),
        duration_minutes="45",
        **{
            "targets-TOTAL_FORMS": "1",
            "targets-0-competence": str(competence.pk),
            "targets-0-target_level": str(level.pk),
            "targets-0-ORDER": "0",
            "targets-0-DELETE": "",
            "targets-0-id": "",
        },
    )
    response = client.post(url, data)
    module = ModulePage.objects.filter(slug=slugify(title)).first()
    assert module is not None, response.content.decode()[:2000]
    return module


def submit_for_review(client, page) -> None:
    data = page_form(client, edit_url(page), **{"action-submit": "1"})
    client.post(edit_url(page), data)


@pytest.fixture
def karims_module(client, track, karim) -> ModulePage:
    client.force_login(karim)
    module = create_module(client, track)
    client.logout()
    return module


def test_setting_up_authoring_twice_creates_nothing_the_second_time(demo):
    assert ensure_authoring_setup() == 0
    assert Group.objects.filter(name__in=[TRAINERS_GROUP, REVIEWERS_GROUP]).count() == 2
    catalogue = CatalogPage.objects.get()
    assert catalogue.get_workflow().name == WORKFLOW_NAME


def test_trainers_are_in_the_formateurs_group_for_as_long_as_they_are_trainers(karim, camille):
    assert karim.groups.filter(name=TRAINERS_GROUP).exists()
    assert not camille.groups.filter(name=TRAINERS_GROUP).exists()

    camille.role = User.Role.TRAINER
    camille.save()
    assert camille.groups.filter(name=TRAINERS_GROUP).exists()

    karim.role = User.Role.FACILITATOR
    karim.save(update_fields=["role"])
    assert not karim.groups.filter(name=TRAINERS_GROUP).exists()


def test_a_trainer_reaches_the_wagtail_admin_but_a_facilitator_does_not(
    client, demo, karim, camille
):
    client.force_login(karim)
    assert client.get(f"{ADMIN}/").status_code == 200
    client.force_login(camille)
    assert client.get(f"{ADMIN}/").status_code == 302


def test_a_trainer_creates_a_module_and_a_lesson_as_drafts_through_the_admin(client, track, karim):
    client.force_login(karim)
    module = create_module(client, track)
    assert module.owner == karim
    assert not module.live
    assert module.get_parent().specific == track
    target = module.targets.get()
    assert (target.competence.code, target.target_level.rank) == ("B1.1", 2)

    url = f"{ADMIN}/pages/add/courses/lessonpage/{module.pk}/"
    data = page_form(
        client,
        url,
        title="Préparer la réunion",
        slug="preparer-la-reunion",
        estimated_minutes="15",
        **nested_form_data(
            {"body": streamfield([("paragraph", rich_text("<p>Choisir un lieu neutre.</p>"))])}
        ),
    )
    client.post(url, data)
    lesson = LessonPage.objects.child_of(module).get()
    assert lesson.owner == karim
    assert not lesson.live
    assert "Choisir un lieu neutre" in str(lesson.body)


def test_a_trainer_edits_their_own_module_but_cannot_publish_it(client, karims_module, karim):
    client.force_login(karim)
    data = page_form(
        client, edit_url(karims_module), summary="Version revue.", **{"action-publish": "1"}
    )
    client.post(edit_url(karims_module), data)

    karims_module.refresh_from_db()
    assert not karims_module.live
    assert karims_module.get_latest_revision_as_object().summary == "Version revue."
    assert karims_module.revisions.count() == 2
    assert not karims_module.permissions_for_user(karim).can_publish()


def test_a_trainer_submits_their_module_for_review(client, karims_module, karim):
    client.force_login(karim)
    submit_for_review(client, karims_module)

    state = WorkflowState.objects.for_instance(karims_module).get()
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert state.workflow.name == WORKFLOW_NAME
    assert state.requested_by == karim
    assert not ModulePage.objects.get(pk=karims_module.pk).live


def test_another_trainer_can_neither_open_nor_change_karims_module(client, karims_module, lea):
    client.force_login(lea)
    response = client.get(edit_url(karims_module))
    assert response.status_code == 302
    assert response.url == f"{ADMIN}/"  # Wagtail's "permission denied" lands on the dashboard

    client.post(edit_url(karims_module), {"title": "Pris par Léa", "action-publish": "1"})
    karims_module.refresh_from_db()
    assert karims_module.title == "Ouvrir son lieu aux habitants"
    assert karims_module.revisions.count() == 1
    assert not karims_module.permissions_for_user(lea).can_edit()


def test_a_trainer_cannot_change_the_track_written_by_the_operating_team(client, track, karim):
    client.force_login(karim)
    assert client.get(edit_url(track)).url == f"{ADMIN}/"
    assert not track.permissions_for_user(karim).can_edit()
    assert not CatalogPage.objects.get().permissions_for_user(karim).can_edit()


def test_trainers_hold_no_permission_on_frameworks(client, demo, karim):
    for model in ("framework", "block", "competence", "level"):
        for action in ("add", "change", "delete", "view"):
            assert not karim.has_perm(f"courses.{action}_{model}")


def test_staff_approves_the_review_and_the_module_goes_live(client, karims_module, karim, staff):
    client.force_login(karim)
    submit_for_review(client, karims_module)
    task_state = WorkflowState.objects.for_instance(karims_module).get().current_task_state

    client.force_login(staff)
    url = f"{ADMIN}/pages/workflow/action/{karims_module.pk}/approve/{task_state.pk}/"
    assert client.post(url).status_code == 302

    karims_module.refresh_from_db()
    assert karims_module.live
    state = WorkflowState.objects.for_instance(karims_module).get()
    assert state.status == WorkflowState.STATUS_APPROVED
    assert ModulePage.objects.live().filter(pk=karims_module.pk).exists()


def test_a_member_of_the_moderation_group_who_is_not_superuser_approves_too(
    client, karims_module, karim
):
    reviewer = make_user("relecture@example.org", "Rita Relecture", is_staff=True)
    reviewer.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    client.force_login(karim)
    submit_for_review(client, karims_module)
    task_state = WorkflowState.objects.for_instance(karims_module).get().current_task_state

    client.force_login(reviewer)
    assert client.get(edit_url(karims_module)).status_code == 200
    url = f"{ADMIN}/pages/workflow/action/{karims_module.pk}/approve/{task_state.pk}/"
    client.post(url)

    karims_module.refresh_from_db()
    assert karims_module.live


def test_a_trainer_cannot_add_a_lesson_under_another_trainers_module(client, karims_module, lea):
    client.force_login(lea)
    url = f"{ADMIN}/pages/add/courses/lessonpage/{karims_module.pk}/"
    response = client.get(url)
    assert (response.status_code, response.url) == (302, f"{ADMIN}/")  # Wagtail's refusal
    client.post(url, {"title": "Leçon de Léa", "slug": "lecon-de-lea"})
    assert karims_module.get_children().count() == 0


def _leas_lesson(client, track) -> LessonPage:
    module = create_module(client, track, "Module de Léa")
    url = f"{ADMIN}/pages/add/courses/lessonpage/{module.pk}/"
    body = streamfield([("paragraph", rich_text("<p>Une leçon de Léa.</p>"))])
    data = page_form(
        client,
        url,
        title="Leçon de Léa",
        slug="lecon-de-lea",
        estimated_minutes="15",
        **nested_form_data({"body": body}),
    )
    client.post(url, data)
    return LessonPage.objects.child_of(module).get()


def test_a_trainer_can_neither_move_nor_copy_a_lesson_into_another_trainers_module(
    client, track, karims_module, lea
):
    client.force_login(lea)
    lesson = _leas_lesson(client, track)

    moved = client.post(f"{ADMIN}/pages/{lesson.pk}/move/{karims_module.pk}/confirm/")
    copied = client.post(
        f"{ADMIN}/pages/{lesson.pk}/copy/",
        {"new_title": "Copie", "new_slug": "copie", "new_parent_page": karims_module.pk},
    )

    assert (moved.status_code, moved.url) == (302, f"{ADMIN}/")  # Wagtail's refusal
    assert (copied.status_code, copied.url) == (302, f"{ADMIN}/")
    assert karims_module.get_children().count() == 0
    assert LessonPage.objects.get(pk=lesson.pk).get_parent().title == "Module de Léa"


def test_a_trainer_cannot_bulk_move_a_lesson_into_another_trainers_module(
    client, track, karims_module, lea
):
    client.force_login(lea)
    lesson = _leas_lesson(client, track)

    client.post(
        f"{ADMIN}/bulk/wagtailcore/page/move/?id={lesson.pk}&next={ADMIN}/pages/",
        {"chooser": karims_module.pk},
    )

    assert karims_module.get_children().count() == 0
    assert LessonPage.objects.get(pk=lesson.pk).get_parent().title == "Module de Léa"


def test_a_trainer_adds_lessons_under_their_own_module(client, karims_module, karim):
    client.force_login(karim)
    url = f"{ADMIN}/pages/add/courses/lessonpage/{karims_module.pk}/"
    assert client.get(url).status_code == 200


def test_a_trainer_cannot_open_a_track_and_is_told_who_does(client, track, karim):
    catalogue = CatalogPage.objects.get()
    client.force_login(karim)
    before = TrackPage.objects.count()

    opened = client.post(
        f"{ADMIN}/pages/add/courses/trackpage/{catalogue.pk}/",
        {"title": "Mon parcours", "slug": "mon-parcours"},
        follow=True,
    )

    assert TrackPage.objects.count() == before
    assert [str(m) for m in opened.context["messages"]] == [
        "Seule l'équipe de la plateforme ouvre un parcours : demandez-lui de le créer, puis "
        "écrivez vos modules à l'intérieur."
    ]
    assert opened.redirect_chain[-1][0] == f"{ADMIN}/pages/{catalogue.pk}/"


def test_the_operating_team_opens_tracks(client, demo, staff):
    catalogue = CatalogPage.objects.get()
    client.force_login(staff)
    response = client.get(f"{ADMIN}/pages/add/courses/trackpage/{catalogue.pk}/")
    assert response.status_code == 200


def _submitted_then_moved_to_another_framework(client, karims_module, karim, track):
    client.force_login(karim)
    submit_for_review(client, karims_module)
    # While the review waits, the operating team moves the track to another framework:
    # the module's targets no longer belong to it.
    TrackPage.objects.filter(pk=track.pk).update(framework=make_framework("RSAUTRE"))
    return WorkflowState.objects.for_instance(karims_module).get().current_task_state


def test_approving_a_module_that_no_longer_passes_its_checks_is_refused_with_the_reason(
    client, karims_module, karim, track, staff
):
    task_state = _submitted_then_moved_to_another_framework(client, karims_module, karim, track)

    client.force_login(staff)
    url = f"{ADMIN}/pages/workflow/action/{karims_module.pk}/approve/{task_state.pk}/"
    response = client.post(url, follow=True)

    assert response.redirect_chain[0] == (edit_url(karims_module), 302)
    page = html.unescape(response.content.decode())
    assert "« Ouvrir son lieu aux habitants » n'a pas été publié" in page
    assert "le parcours de ce module suit RSAUTRE 2025" in page
    karims_module.refresh_from_db()
    assert not karims_module.live
    # The whole approval is undone: the review is still waiting for a decision.
    state = WorkflowState.objects.for_instance(karims_module).get()
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    task_state.refresh_from_db()
    assert task_state.status == task_state.STATUS_IN_PROGRESS


def test_the_approval_modal_is_sent_to_the_editor_when_the_approval_is_refused(
    client, karims_module, karim, track, staff
):
    task_state = _submitted_then_moved_to_another_framework(client, karims_module, karim, track)

    client.force_login(staff)
    url = f"{ADMIN}/pages/workflow/action/{karims_module.pk}/approve/{task_state.pk}/"
    response = client.post(
        url, {"comment": "Parfait."}, headers={"x-requested-with": "XMLHttpRequest"}
    )

    assert response.status_code == 200
    assert response.json() == {"step": "success", "redirect": edit_url(karims_module)}
    assert not ModulePage.objects.get(pk=karims_module.pk).live
    editor = html.unescape(client.get(edit_url(karims_module)).content.decode())
    assert "n'a pas été publié" in editor
    # The comment went with the undone approval: quoted, the reviewer copies it back.
    assert "Votre commentaire, non enregistré : « Parfait. »" in editor


def test_a_revision_scheduled_to_go_live_later_is_checked_when_approved(
    client, karims_module, karim, track, staff
):
    revision = karims_module.get_latest_revision()
    revision.content["go_live_at"] = (timezone.now() + timedelta(days=7)).isoformat()
    revision.save(update_fields=["content"])
    task_state = _submitted_then_moved_to_another_framework(client, karims_module, karim, track)

    client.force_login(staff)
    url = f"{ADMIN}/pages/workflow/action/{karims_module.pk}/approve/{task_state.pk}/"
    response = client.post(url, follow=True)

    assert "n'a pas été publié" in html.unescape(response.content.decode())
    assert not karims_module.revisions.filter(approved_go_live_at__isnull=False).exists()
    state = WorkflowState.objects.for_instance(karims_module).get()
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
