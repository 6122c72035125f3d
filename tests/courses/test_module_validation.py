"""A module's admin form checks what the author submitted, and publishing never lets
through what the form would refuse."""

import logging

import pytest
from django.core.exceptions import ValidationError
from wagtail.test.utils.form_data import nested_form_data

from courses.assessments import question_snapshots, stream_data
from courses.models import ModuleCompetence, ModulePage, TrackPage
from courses.services import new_version
from tests.courses.admin_forms import (
    ADMIN,
    add_module_url,
    created_module,
    edit_url,
    module_fields,
    numeric_question,
    open_question_form,
    page_form,
    quiz_data,
    targets_data,
)
from tests.courses.factories import make_catalogue_page, make_framework, make_module, make_track


@pytest.fixture
def rs5142(db):
    return make_framework()


@pytest.fixture
def track(rs5142):
    return make_track(make_catalogue_page(), rs5142)


def competence(framework, code: str):
    return framework.competences().get(code=code)


def level(framework, code: str = "decouvrir"):
    return framework.levels.get(code=code)


def form_errors(response) -> dict:
    assert response.status_code == 200, "the form was accepted"
    return response.context["form"].errors


def numeric(code: str, answer=1800) -> dict:
    return {
        "type": "numeric",
        "competence": code,
        "level": "decouvrir",
        "text": f"Combien ({code}) ?",
        "answer": answer,
        "tolerance": 0,
    }


def module_with_quiz(track, *, live: bool = True) -> ModulePage:
    """Targets B1.1 and B1.2, one question on each."""
    module = make_module(track, "Gouvernance partagée", competences=("B1.1", "B1.2"))
    module.quiz = stream_data([numeric("B1.1"), numeric("B1.2")])
    module.save_revision().publish()
    if not live:
        module.unpublish()
    return ModulePage.objects.get(pk=module.pk)


def edit_data(client, module: ModulePage, **fields) -> dict:
    """The edit form as read from the page, with the module's quiz as the browser sends it."""
    questions = [numeric_question(child.value["competence"]) for child in module.quiz]
    return page_form(client, edit_url(module), **quiz_data(*questions), **fields)


# The quiz is checked against the targets as submitted ------------------------------


@pytest.mark.parametrize("action", [{}, {"action-publish": "1"}], ids=["draft", "publish"])
def test_a_new_module_gets_its_targets_and_its_quiz_in_one_save(client, staff, track, action):
    client.force_login(staff)
    url = add_module_url(track)
    data = page_form(
        client,
        url,
        **module_fields(),
        **targets_data((competence(track.framework, "B1.1"), level(track.framework), None, False)),
        **quiz_data(numeric_question("B1.1")),
        **action,
    )

    assert client.post(url, data).status_code == 302
    module = created_module()
    assert module.live == bool(action)
    assert [c.value["competence"] for c in module.get_latest_revision_as_object().quiz] == ["B1.1"]


def test_a_question_on_a_competence_the_form_does_not_target_is_refused_on_the_quiz(
    client, staff, track
):
    client.force_login(staff)
    url = add_module_url(track)
    data = page_form(
        client,
        url,
        **module_fields(),
        **targets_data((competence(track.framework, "B1.1"), level(track.framework), None, False)),
        **quiz_data(numeric_question("B1.1"), numeric_question("B1.2")),
    )

    errors = form_errors(client.post(url, data))

    assert len(errors["quiz"]) == 1 and "question 2" in errors["quiz"][0].lower()
    assert "B1.2" in errors["quiz"][0]
    assert created_module() is None


@pytest.mark.parametrize("live", [True, False], ids=["live", "never-published"])
@pytest.mark.parametrize("action", [{}, {"action-publish": "1"}], ids=["draft", "publish"])
def test_removing_a_target_that_a_question_uses_is_refused_on_the_quiz(
    client, staff, track, live, action
):
    module = module_with_quiz(track, live=live)
    revisions = module.revisions.count()
    client.force_login(staff)
    data = edit_data(client, module, **{"targets-1-DELETE": "1"}, **action)
    assert data["targets-1-competence"] == str(competence(track.framework, "B1.2").pk)

    errors = form_errors(client.post(edit_url(module), data))

    assert "B1.2" in " ".join(errors["quiz"])
    assert module.revisions.count() == revisions
    assert module.targets.count() == 2


def test_removing_a_target_no_question_uses_then_publishing_works(client, staff, track):
    module = module_with_quiz(track, live=False)
    module.quiz = stream_data([numeric("B1.1")])
    module.save_revision()
    client.force_login(staff)
    data = edit_data(client, module, **{"targets-1-DELETE": "1", "action-publish": "1"})

    assert client.post(edit_url(module), data).status_code == 302

    module.refresh_from_db()
    assert module.live
    assert [t.competence.code for t in module.targets.all()] == ["B1.1"]


def test_a_module_whose_last_revision_names_a_deleted_target_can_still_be_saved(
    client, staff, track
):
    # What a failed « Publish » used to leave behind: the row deleted, the revision not.
    module = module_with_quiz(track, live=False)
    module.quiz = stream_data([numeric("B1.1")])
    module.save_revision()
    ModuleCompetence.objects.filter(module=module, competence__code="B1.2").delete()
    client.force_login(staff)
    data = edit_data(client, module, summary="Enfin enregistré.")

    assert client.post(edit_url(module), data).status_code == 302

    module = ModulePage.objects.get(pk=module.pk)
    assert module.get_latest_revision_as_object().summary == "Enfin enregistré."
    assert sorted(t.competence.code for t in module.targets.all()) == ["B1.1", "B1.2"]


def test_restoring_a_revision_whose_target_was_removed_since_opens_a_form_that_saves(
    client, staff, track
):
    module = module_with_quiz(track)
    old = module.latest_revision
    module.quiz = stream_data([numeric("B1.1")])
    module.targets = [t for t in module.targets.all() if t.competence.code == "B1.1"]
    module.save_revision().publish()
    assert module.targets.count() == 1
    client.force_login(staff)
    url = f"{ADMIN}/pages/{module.pk}/revisions/{old.pk}/revert/"
    data = page_form(client, url, **quiz_data(numeric_question("B1.1")))
    data["revision"] = str(old.pk)

    assert client.post(edit_url(module), data).status_code == 302
    assert module.revisions.count() == 3


# Publishing refuses what the form would -------------------------------------------


@pytest.fixture
def draft_with_unanswered_question(client, staff, track) -> ModulePage:
    """A draft saved through the admin with a numeric question and no answer yet.

    Wagtail defers required fields for drafts: this is a legitimate draft.
    """
    client.force_login(staff)
    url = add_module_url(track)
    data = page_form(
        client,
        url,
        **module_fields(),
        **targets_data((competence(track.framework, "B1.1"), level(track.framework), None, False)),
        **quiz_data(numeric_question("B1.1", answer="")),
    )
    assert client.post(url, data).status_code == 302
    return created_module()


def bulk_published(client, page) -> list[str]:
    """Publish `page` alone from the page listing's bulk action; the messages shown after."""
    url = f"{ADMIN}/bulk/wagtailcore/page/publish/?id={page.pk}&next={ADMIN}/pages/"
    response = client.post(url, {"include_descendants": ""}, follow=True)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def test_bulk_publishing_a_draft_with_an_unanswered_question_is_refused(
    client, draft_with_unanswered_question
):
    module = draft_with_unanswered_question

    shown = bulk_published(client, module)

    module.refresh_from_db()
    assert not module.live
    assert any(module.title in message and "question 1" in message.lower() for message in shown)


def test_bulk_publishing_the_track_with_its_drafts_is_refused_too(
    client, track, draft_with_unanswered_question
):
    url = f"{ADMIN}/bulk/wagtailcore/page/publish/?id={track.pk}"

    client.post(url, {"include_descendants": "on"})

    assert not ModulePage.objects.get(pk=draft_with_unanswered_question.pk).live


def test_publishing_a_revision_with_an_unanswered_question_raises(draft_with_unanswered_question):
    revision = draft_with_unanswered_question.get_latest_revision()

    with pytest.raises(ValidationError) as error:
        revision.publish()

    assert "question 1" in " ".join(error.value.message_dict["quiz"]).lower()
    assert not ModulePage.objects.get(pk=draft_with_unanswered_question.pk).live


def test_a_malformed_question_is_left_out_of_an_attempt_and_logged(caplog):
    module = ModulePage(quiz=stream_data([numeric("B1.1", answer=None), numeric("B1.2")]))

    with caplog.at_level(logging.WARNING, logger="courses.assessments"):
        snapshots = question_snapshots(module.quiz)

    assert [snapshot["competence"] for snapshot in snapshots] == ["B1.2"]
    assert "Question 1" in caplog.text


# Prerequisites --------------------------------------------------------------------


def test_a_module_cannot_be_its_own_prerequisite(client, staff, track):
    module = make_module(track, "Gouvernance partagée", competences=("B1.1",))
    client.force_login(staff)
    data = page_form(client, edit_url(module))
    data.setlist("prerequisite_modules", [str(module.pk)])

    errors = form_errors(client.post(edit_url(module), data))

    assert "Gouvernance partagée" in errors["prerequisite_modules"][0]


def test_prerequisites_that_loop_back_are_refused_naming_the_modules(client, staff, track):
    first = make_module(track, "Premier pas", competences=("B1.1",))
    second = make_module(track, "Deuxième pas", competences=("B1.1",))
    third = make_module(track, "Troisième pas", competences=("B1.1",))
    for module, prerequisite in ((second, first), (third, second)):
        module.prerequisite_modules = [prerequisite]
        module.save_revision().publish()
    client.force_login(staff)
    data = page_form(client, edit_url(first))
    data.setlist("prerequisite_modules", [str(third.pk)])

    errors = form_errors(client.post(edit_url(first), data))

    assert (
        "« Premier pas » → « Troisième pas » → « Deuxième pas » → « Premier pas »"
        in (errors["prerequisite_modules"][0])
    )
    assert not first.prerequisite_modules.exists()


def test_publishing_a_draft_that_closes_a_loop_is_refused(track):
    first = make_module(track, "Premier pas", competences=("B1.1",))
    second = make_module(track, "Deuxième pas", competences=("B1.1",))
    # Two drafts, each fine while the other is not published.
    first.prerequisite_modules = [second]
    first_revision = first.save_revision()
    second.prerequisite_modules = [first]
    second_revision = second.save_revision()
    first_revision.publish()

    with pytest.raises(ValidationError) as error:
        second_revision.publish()

    assert "Premier pas" in error.value.message_dict["prerequisite_modules"][0]
    assert not ModulePage.objects.get(pk=second.pk).prerequisite_modules.exists()


# Attempts and time limit ----------------------------------------------------------


@pytest.mark.parametrize("field", ["quiz_max_attempts", "quiz_time_limit_minutes"])
def test_zero_attempts_or_a_zero_minute_limit_is_refused(client, staff, track, field):
    module = make_module(track, "Gouvernance partagée", competences=("B1.1",))
    client.force_login(staff)
    data = page_form(client, edit_url(module), **{field: "0"})

    errors = form_errors(client.post(edit_url(module), data))

    assert list(errors) == [field]


def test_blank_attempts_and_time_limit_mean_unlimited(client, staff, track):
    module = make_module(track, "Gouvernance partagée", competences=("B1.1",))
    client.force_login(staff)
    data = page_form(
        client,
        edit_url(module),
        quiz_max_attempts="",
        quiz_time_limit_minutes="",
        **{"action-publish": "1"},
    )

    assert client.post(edit_url(module), data).status_code == 302

    module.refresh_from_db()
    assert (module.quiz_max_attempts, module.quiz_time_limit_minutes) == (None, None)


# Targets and their framework ------------------------------------------------------


def test_a_competence_of_another_framework_than_the_tracks_is_refused_on_its_row(
    client, staff, track
):
    sens_ap = make_framework("SENS-AP", blocks={"S1": ("S1.1",)})
    client.force_login(staff)
    url = add_module_url(track)
    data = page_form(
        client,
        url,
        **module_fields(),
        **targets_data((competence(sens_ap, "S1.1"), level(sens_ap), None, False)),
    )

    response = client.post(url, data)

    assert response.status_code == 200
    [row] = response.context["form"].formsets["targets"].errors
    assert "S1.1" in row["competence"][0]
    assert "SENS-AP 2025" in row["competence"][0] and "RS5142 2025" in row["competence"][0]
    assert created_module() is None


def test_publishing_a_module_with_a_target_of_another_framework_is_refused(track):
    sens_ap = make_framework("SENS-AP", blocks={"S1": ("S1.1",)})
    module = make_module(track, "Gouvernance partagée", competences=("B1.1",))
    module.targets.add(
        ModuleCompetence(competence=competence(sens_ap, "S1.1"), target_level=level(sens_ap))
    )

    with pytest.raises(ValidationError) as error:
        module.save_revision().publish()

    assert "S1.1" in " ".join(error.value.messages)


def test_the_selects_name_the_framework_and_its_version(client, staff, track, rs5142):
    new_version(rs5142, "2026")
    client.force_login(staff)

    html = client.get(add_module_url(track)).content.decode()

    for version in ("2025", "2026"):
        assert f"RS5142 {version} · B1.1 — Compétence B1.1" in html
        assert f"RS5142 {version} · 1. Découvrir" in html


@pytest.mark.parametrize("field", ["quiz_cooldown_minutes", "quiz_time_limit_minutes"])
def test_minutes_beyond_a_year_are_refused_before_they_break_the_quiz(client, staff, track, field):
    module = make_module(track, "Gouvernance partagée", competences=("B1.1",))
    client.force_login(staff)
    data = page_form(client, edit_url(module), **{field: "99999999999"})

    errors = form_errors(client.post(edit_url(module), data))

    assert errors[field] == ["525600 minutes au plus (un an)."]


def test_a_quiz_of_a_hundred_questions_is_saved_from_the_editor(client, staff, track):
    module = make_module(track, "Gouvernance partagée", competences=("B1.1",))
    client.force_login(staff)
    questions = [numeric_question("B1.1") for _ in range(100)]
    data = page_form(client, edit_url(module), **quiz_data(*questions))
    data.update({f"f{n}": "" for n in range(3_000 - len(data))})  # a choice question posts ~30

    assert client.post(edit_url(module), data).status_code == 302

    assert len(ModulePage.objects.get(pk=module.pk).get_latest_revision_as_object().quiz) == 100


def test_a_level_of_another_framework_than_the_tracks_is_neither_offered_nor_taken(
    client, staff, track
):
    sens_ap = make_framework("SENS-AP", blocks={"S1": ("S1.1",)})
    client.force_login(staff)
    url = add_module_url(track)
    data = page_form(
        client,
        url,
        **module_fields(level=str(level(sens_ap).pk)),
        **targets_data((competence(track.framework, "B1.1"), level(track.framework), None, False)),
        **{"action-publish": "1"},
    )
    offered = client.get(url).context["form"].fields["level"].queryset

    errors = form_errors(client.post(url, data))

    assert set(offered) == set(track.framework.levels.all())
    assert list(errors) == ["level"]
    assert created_module() is None


def test_publishing_a_module_at_a_level_of_another_framework_is_refused(track):
    sens_ap = make_framework("SENS-AP", blocks={"S1": ("S1.1",)})
    module = make_module(track, "Gouvernance partagée", competences=("B1.1",))
    module.level = level(sens_ap)

    with pytest.raises(ValidationError) as error:
        module.save_revision().publish()

    assert error.value.message_dict["level"] == [
        "Ce niveau appartient à un autre référentiel : choisissez-en un de RS5142 2025."
    ]


# Positioning questions of a track ---------------------------------------------------------


def _positioning(question: dict) -> dict:
    return {
        "positioning-count": "1",
        "positioning-0-type": "numeric",
        "positioning-0-deleted": "",
        "positioning-0-order": "0",
        "positioning-0-id": "",
        **nested_form_data({"positioning-0-value": question}),
    }


def test_a_positioning_question_outside_the_tracks_framework_is_refused(client, staff, track):
    client.force_login(staff)
    question = {"text": "Combien ?", "answer": "3", "tolerance": "0", "explanation": ""}
    unknown = {**question, "competence": "ZZZ.9", "level": "decouvrir"}
    wrong_level = {**question, "competence": "B1.1", "level": "inconnu"}

    refusals = [
        form_errors(
            client.post(
                edit_url(track),
                page_form(client, edit_url(track), **_positioning(q), **{"action-publish": "1"}),
            )
        )["positioning"]
        for q in (unknown, wrong_level)
    ]

    assert refusals == [
        ["Question 1 : « ZZZ.9 » n'est pas une compétence du référentiel du parcours."],
        ["Question 1 : « inconnu » n'est pas un niveau du référentiel de la compétence."],
    ]
    track.refresh_from_db()
    assert len(track.positioning) == 0


def test_bulk_publishing_a_track_whose_positioning_draft_is_half_written_is_refused(
    client, staff, track
):
    client.force_login(staff)
    half_written = {"competence": "B1.1", "level": "decouvrir", "text": "Combien ?"}
    half_written |= {"answer": "", "tolerance": "0", "explanation": ""}
    draft = page_form(client, edit_url(track), **_positioning(half_written))
    assert client.post(edit_url(track), draft).status_code == 302
    track.refresh_from_db()  # the draft's revision is now its latest
    track.unpublish()

    shown = bulk_published(client, track)

    track.refresh_from_db()
    assert not track.live
    assert any(track.title in message and "question 1" in message.lower() for message in shown)


def test_a_module_whose_stored_level_is_foreign_is_told_so_not_silently_cleared(
    client, staff, track
):
    sens_ap = make_framework("SENS-AP", blocks={"S1": ("S1.1",)})
    module = make_module(track, "Gouvernance partagée", competences=("B1.1",))
    ModulePage.objects.filter(pk=module.pk).update(level=level(sens_ap))
    client.force_login(staff)

    errors = form_errors(client.post(edit_url(module), page_form(client, edit_url(module))))

    assert errors["level"] == [
        "Ce niveau appartient à un autre référentiel : choisissez-en un de RS5142 2025."
    ]
    assert ModulePage.objects.get(pk=module.pk).level == level(sens_ap)


def test_positioning_questions_on_a_track_without_a_framework_ask_for_one(track):
    track.framework = None
    track.positioning = stream_data([numeric("B1.1")])

    with pytest.raises(ValidationError) as error:
        track.full_clean()

    assert error.value.message_dict["positioning"] == [
        "Choisissez d'abord le référentiel du parcours : les questions de positionnement "
        "portent sur ses compétences."
    ]


def test_a_competence_targeted_twice_is_named_by_its_code_not_by_field_names(client, staff, track):
    client.force_login(staff)
    url = add_module_url(track)
    b11, first = competence(track.framework, "B1.1"), level(track.framework)
    data = page_form(
        client,
        url,
        **module_fields(),
        **targets_data((b11, first, None, False), (b11, first, None, False)),
    )

    response = client.post(url, data)

    assert response.status_code == 200 and created_module() is None
    targets = response.context["form"].formsets["targets"]
    [message] = targets.non_form_errors()
    assert "B1.1" in message and "une seule fois" in message
    assert "module et competence" not in response.content.decode()
    repeated = targets.forms[1].non_field_errors()
    assert repeated == ["Cette compétence est déjà visée sur une autre ligne."]


@pytest.fixture
def elsewhere(track):
    """A track of another framework, in the same catalogue."""
    catalogue = track.get_parent().specific
    return make_track(catalogue, make_framework("AUTRE"), title="Autre", slug="autre")


def test_a_module_cannot_move_under_a_track_of_another_framework(client, staff, track, elsewhere):
    module = make_module(track, "Gouvernance partagée", competences=("B1.1",))
    client.force_login(staff)

    moved = client.post(f"{ADMIN}/pages/{module.pk}/move/{elsewhere.pk}/confirm/", follow=True)
    copied = client.post(
        f"{ADMIN}/pages/{module.pk}/copy/",
        {"new_title": "Copie", "new_slug": "copie", "new_parent_page": elsewhere.pk},
        follow=True,
    )
    client.post(
        f"{ADMIN}/bulk/wagtailcore/page/move/?id={module.pk}&next={ADMIN}/pages/",
        {"chooser": elsewhere.pk},
    )

    for response in (moved, copied):
        said = " ".join(str(m) for m in response.context["messages"])
        assert "ne peut pas aller sous « Autre »" in said and "B1.1" in said
    assert ModulePage.objects.get(pk=module.pk).get_parent().pk == track.pk
    assert elsewhere.get_children().count() == 0


def test_a_module_moves_under_another_track_of_its_framework(client, staff, track):
    module = make_module(track, "Gouvernance partagée", competences=("B1.1",))
    sibling = make_track(track.get_parent().specific, track.framework, title="Bis", slug="bis")
    client.force_login(staff)

    client.post(f"{ADMIN}/pages/{module.pk}/move/{sibling.pk}/confirm/")

    assert ModulePage.objects.get(pk=module.pk).get_parent().pk == sibling.pk


def open_question(code: str = "B1.1", allow_file: bool = True) -> dict:
    return {
        "type": "open",
        "competence": code,
        "level": "decouvrir",
        "text": "Décrivez votre tiers-lieu.",
        "allow_file": allow_file,
    }


def test_a_positioning_test_offers_only_questions_scored_without_a_trainer():
    positioning = TrackPage._meta.get_field("positioning").stream_block.child_blocks
    quiz = ModulePage._meta.get_field("quiz").stream_block.child_blocks

    # Nobody grades a positioning test: an open question there would never be read.
    assert "open" not in positioning
    assert set(quiz) - set(positioning) == {"open"}


def test_a_quiz_with_more_file_questions_than_a_form_may_send_is_refused(track, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    module = make_module(track, "Gouvernance partagée", competences=("B1.1",))
    module.quiz = stream_data([open_question(), open_question(), open_question(allow_file=False)])
    module.full_clean()  # two files: as many as a form may send

    module.quiz = stream_data([open_question() for _ in range(3)])
    with pytest.raises(ValidationError) as error:
        module.full_clean()

    assert error.value.message_dict["quiz"] == [
        "3 questions ouvertes acceptent un fichier, 2 au plus le peuvent : décochez "
        "« L'apprenant·e peut joindre un fichier » sur certaines d'entre elles."
    ]


@pytest.mark.parametrize("action", [{}, {"action-publish": "1"}], ids=["draft", "publish"])
def test_the_admin_form_says_a_quiz_holds_too_many_file_questions_on_the_quiz(
    client, staff, track, settings, action
):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    client.force_login(staff)
    url = add_module_url(track)
    data = page_form(
        client,
        url,
        **module_fields(),
        **targets_data((competence(track.framework, "B1.1"), level(track.framework), None, False)),
        **quiz_data(*[open_question_form("B1.1") for _ in range(3)]),
        **action,
    )

    errors = form_errors(client.post(url, data))

    assert errors["quiz"] == [
        "3 questions ouvertes acceptent un fichier, 2 au plus le peuvent : décochez "
        "« L'apprenant·e peut joindre un fichier » sur certaines d'entre elles."
    ]
    assert created_module() is None
