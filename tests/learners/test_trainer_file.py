"""A trainer sees the learners of their own modules, and records validations by observation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from learners import services
from learners.models import LedgerEntry
from tests.learners.factories import competence, level


@pytest.fixture
def camille_in_track(camille, journey):
    services.enrol(camille, journey.track)
    services.mark_lesson_done(camille, journey.basics.lessons().first())
    return camille


def test_karim_sees_the_learners_of_his_modules(client, karim, camille_in_track, dominique):
    client.force_login(karim)
    response = client.get("/moi/apprenants/")
    assert response.status_code == 200
    assert list(response.context["learners"]) == [camille_in_track]


def test_a_learner_enrolled_in_a_single_module_is_listed_for_its_owner_only(
    client, karim, lea, dominique, journey
):
    services.enrol(dominique, journey.closing)  # Léa's module
    client.force_login(lea)
    assert list(client.get("/moi/apprenants/").context["learners"]) == [dominique]
    client.force_login(karim)
    assert list(client.get("/moi/apprenants/").context["learners"]) == []


def test_a_learner_who_left_is_no_longer_listed(client, karim, camille_in_track, journey):
    services.leave(camille_in_track, journey.track)
    client.force_login(karim)
    assert list(client.get("/moi/apprenants/").context["learners"]) == []
    assert client.get(f"/moi/apprenants/{camille_in_track.pk}/").status_code == 404


def test_the_learner_file_shows_progress_in_the_trainers_modules_and_the_ledger(
    client, karim, camille_in_track, journey
):
    framework = journey.framework
    services.record_evidence(
        camille_in_track, competence(framework, "B1.1"), level(framework, 1), "positioning"
    )
    client.force_login(karim)

    response = client.get(f"/moi/apprenants/{camille_in_track.pk}/")

    assert response.status_code == 200
    progress = response.context["progress"]
    assert [row.module for row in progress] == [journey.basics, journey.advanced]
    assert [row.percent for row in progress] == [50, 0]
    assert [e.competence.code for e in response.context["ledger"]] == ["B1.1"]
    choices = response.context["form"].fields["competence"].queryset
    assert sorted(c.code for c in choices) == ["B1.1", "B1.2", "B2.1"]


def test_karim_records_a_validation_by_observation_under_his_name(
    client, karim, camille_in_track, journey
):
    framework = journey.framework
    client.force_login(karim)
    response = client.post(
        f"/moi/apprenants/{camille_in_track.pk}/",
        {
            "competence": competence(framework, "B1.2").pk,
            "level": level(framework, 2).pk,
            "comment": "A animé la réunion de rentrée des résidents.",
        },
    )
    assert response.status_code == 302
    entry = LedgerEntry.objects.get()
    assert entry.learner == camille_in_track
    assert entry.validated_by == karim
    assert entry.source == LedgerEntry.Source.TRAINER
    assert entry.level.rank == 2
    html = client.get(f"/moi/apprenants/{camille_in_track.pk}/").content.decode()
    assert "Karim Benali" in html


def test_the_same_validation_sent_twice_is_recorded_once_and_a_later_one_again(
    client, karim, camille_in_track, journey, monkeypatch
):
    framework = journey.framework
    client.force_login(karim)
    data = {
        "competence": competence(framework, "B1.2").pk,
        "level": level(framework, 2).pk,
        "comment": "A animé la réunion de rentrée des résidents.",
    }
    url = f"/moi/apprenants/{camille_in_track.pk}/"

    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # a double click
    assert LedgerEntry.objects.count() == 1

    an_hour_later = timezone.now() + timedelta(hours=1)
    monkeypatch.setattr(timezone, "now", lambda: an_hour_later)
    client.post(url, data)  # the same observation made again, an hour later
    assert LedgerEntry.objects.count() == 2


@pytest.mark.parametrize(
    "data_for, field",
    [
        (lambda f, other: {"level": level(f, 2).pk, "comment": "x"}, "competence"),
        (lambda f, other: {"competence": competence(f, "B1.1").pk, "comment": "x"}, "level"),
        (
            lambda f, other: {"competence": competence(f, "B1.1").pk, "level": level(f, 2).pk},
            "comment",
        ),
        (
            lambda f, other: {
                "competence": competence(other, "B1.1").pk,
                "level": level(f, 2).pk,
                "comment": "x",
            },
            "competence",
        ),
        (
            lambda f, other: {
                "competence": competence(f, "B1.1").pk,
                "level": level(other, 2).pk,
                "comment": "x",
            },
            "level",
        ),
    ],
    ids=["no competence", "no level", "no comment", "foreign competence", "foreign level"],
)
def test_a_bad_observation_is_refused_with_a_message_on_the_field(
    client, karim, camille_in_track, journey, data_for, field
):
    from tests.learners.factories import make_framework

    other = make_framework(code="AUTRE")
    client.force_login(karim)
    response = client.post(
        f"/moi/apprenants/{camille_in_track.pk}/", data_for(journey.framework, other)
    )
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert 'id="error-summary"' in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_lea_cannot_validate_a_competence_only_karims_modules_target(
    client, lea, camille_in_track, journey
):
    # Léa owns « Conclure », which targets B2.1 only.
    client.force_login(lea)
    response = client.post(
        f"/moi/apprenants/{camille_in_track.pk}/",
        {
            "competence": competence(journey.framework, "B1.1").pk,
            "level": level(journey.framework, 2).pk,
            "comment": "x",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["competence"]
    assert not LedgerEntry.objects.exists()


def test_the_service_refuses_a_trainer_outside_their_modules(lea, dominique, journey):
    with pytest.raises(PermissionError):
        services.record_observation(
            lea,
            dominique,
            competence(journey.framework, "B2.1"),
            level(journey.framework, 1),
            "x",
        )


def test_a_validation_withdrawn_is_marked_so_and_may_be_given_again(
    client, karim, camille_in_track, journey
):
    b11, acquired = competence(journey.framework, "B1.1"), level(journey.framework, 2)
    first = services.record_observation(karim, camille_in_track, b11, acquired, "Observé.")
    services.retract_evidence(first, karim, "Validée pour la mauvaise personne.")

    again = services.record_observation(karim, camille_in_track, b11, acquired, "Observé.")

    assert again != first
    client.force_login(karim)
    page = client.get(f"/moi/apprenants/{camille_in_track.pk}/").content.decode()
    assert f'data-testid="retracted-{first.pk}"' in page
    assert f'data-testid="retracted-{again.pk}"' not in page
    assert "Validée pour la mauvaise personne." in page


def test_a_trainer_taking_their_own_track_is_not_among_their_learners_nor_validates_himself(
    client, karim, journey
):
    services.enrol(karim, journey.track)
    framework = journey.framework

    client.force_login(karim)
    assert list(client.get("/moi/apprenants/").context["learners"]) == []
    assert client.get(f"/moi/apprenants/{karim.pk}/").status_code == 404
    with pytest.raises(PermissionError):
        services.record_observation(
            karim, karim, competence(framework, "B1.2"), level(framework, 3), "Moi-même."
        )
    assert not LedgerEntry.objects.exists()
