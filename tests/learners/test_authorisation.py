"""Who sees what: a learner their own data, a trainer the learners of their modules, else 404."""

import pytest

from courses.models import ModulePage
from learners import services
from learners.feedback import may_give_trainer_feedback
from learners.models import User
from tests.conftest import make_user, signed_in_just_now
from tests.learners.test_feedback import make_session


@pytest.fixture
def camille_in_track(camille, journey):
    services.enrol(camille, journey.track)
    return camille


LEARNER_PAGES = [
    "/moi/parcours/",
    "/moi/donnees/",
    "/moi/donnees/export.zip",
    "/moi/donnees/supprimer/",
    "/moi/donnees/confirmer/",
]


@pytest.mark.parametrize("url", LEARNER_PAGES + ["/moi/apprenants/"])
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith("/comptes/login/")


@pytest.mark.parametrize("persona", ["camille", "dominique", "karim", "lea", "staff"])
@pytest.mark.parametrize("url", LEARNER_PAGES)
def test_every_persona_reaches_their_own_pages(client, request, journey, persona, url):
    signed_in_just_now(client, request.getfixturevalue(persona))
    assert client.get(url).status_code == 200


def test_dominique_sees_only_her_own_dashboard(client, camille_in_track, dominique, journey):
    client.force_login(dominique)
    path = client.get("/moi/parcours/").context["path"]
    assert path.is_empty


@pytest.mark.parametrize("persona", ["camille", "dominique"])
def test_learners_cannot_see_the_trainer_pages(client, request, camille_in_track, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/moi/apprenants/").status_code == 404
    assert client.get(f"/moi/apprenants/{camille_in_track.pk}/").status_code == 404
    response = client.post(f"/moi/apprenants/{camille_in_track.pk}/", {"comment": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "persona, sees_camille",
    [("karim", True), ("lea", True), ("staff", False)],
    ids=["karim owns modules of her track", "léa owns one too", "staff owns none"],
)
def test_trainers_see_a_learner_file_only_through_their_modules(
    client, request, camille_in_track, dominique, persona, sees_camille
):
    client.force_login(request.getfixturevalue(persona))
    expected = 200 if sees_camille else 404
    assert client.get(f"/moi/apprenants/{camille_in_track.pk}/").status_code == expected
    # Dominique follows nothing: nobody's learner.
    assert client.get(f"/moi/apprenants/{dominique.pk}/").status_code == 404
    assert client.get("/moi/apprenants/999999/").status_code == 404


def test_a_trainer_whose_modules_a_learner_does_not_follow_gets_404(
    client, lea, dominique, journey
):
    services.enrol(dominique, journey.basics)  # Karim's module
    client.force_login(lea)
    assert client.get(f"/moi/apprenants/{dominique.pk}/").status_code == 404


def test_progress_actions_touch_only_the_logged_in_learner(
    client, camille_in_track, dominique, journey
):
    lesson = journey.basics.lessons().first()
    client.force_login(dominique)
    client.post(f"/moi/lecons/{lesson.pk}/terminee/")
    assert not camille_in_track.lesson_progress.exists()
    client.post(f"/moi/desinscription/{journey.track.pk}/")
    assert camille_in_track.enrolments.get().left_at is None


def test_a_draft_module_a_trainer_adds_to_a_track_opens_none_of_its_learners(
    client, camille_in_track, journey
):
    noe = make_user("noe@example.org", "Noé Laurent", role=User.Role.TRAINER)
    # Any trainer may add a draft to any track in the admin (tests/courses/test_authoring.py);
    # the moderation team publishes it.
    draft = journey.track.add_child(
        instance=ModulePage(
            title="Brouillon",
            slug="brouillon",
            summary="Une idée de module.",
            objectives="<p>Accueillir les habitants.</p>",
            duration_minutes=30,
            owner=noe,
            live=False,
        )
    )
    session = make_session(journey.track)
    client.force_login(noe)

    assert camille_in_track.full_name not in client.get("/moi/apprenants/").content.decode()
    assert client.get(f"/moi/apprenants/{camille_in_track.pk}/").status_code == 404
    assert not may_give_trainer_feedback(noe, session)

    draft.save_revision().publish()
    assert camille_in_track.full_name in client.get("/moi/apprenants/").content.decode()
    assert client.get(f"/moi/apprenants/{camille_in_track.pk}/").status_code == 200
    assert may_give_trainer_feedback(noe, session)
