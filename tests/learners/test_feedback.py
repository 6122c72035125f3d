"""Trainers and funders appraise a session: trainers logged in, funders through a signed link."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from learners import feedback
from learners.quality_models import Feedback
from learners.session_models import TrainingSession


def make_session(track, *trainers):
    today = timezone.localdate()
    session = TrainingSession.objects.create(
        track=track, format="online", starts_on=today, ends_on=today, capacity=12
    )
    session.trainers.set(trainers)
    return session


@pytest.fixture
def session(journey, karim):
    return make_session(journey.track, karim)


RATED = {"rating": "4", "strengths": "Un groupe engagé.", "improvements": "Plus de pauses."}


# --- Trainers -----------------------------------------------------------------------------


def test_a_trainer_of_the_session_records_feedback_under_their_name(client, session, karim):
    client.force_login(karim)
    url = reverse("learners:trainer_feedback", args=[session.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, RATED)
    assert response.status_code == 200
    assert 'data-testid="feedback-thanks"' in response.text
    row = Feedback.objects.get()
    assert (row.respondent, row.author, row.author_name) == (
        Feedback.Respondent.TRAINER,
        karim,
        karim.display_name,
    )
    assert (row.track_id, row.session, row.rating) == (session.track_id, session, 4)


def test_a_trainer_finds_the_feedback_form_from_her_sessions_once_they_started(
    client, journey, session, karim
):
    later = make_session(journey.track, karim)
    later.starts_on = later.ends_on = timezone.localdate() + datetime.timedelta(days=7)
    later.save()
    client.force_login(karim)
    url = reverse("learners:trainer_feedback", args=[session.pk])

    sessions = client.get(reverse("learners:trainer_sessions")).text
    grid = client.get(reverse("learners:session_attendance", args=[session.pk])).text
    coming = client.get(reverse("learners:session_attendance", args=[later.pk])).text

    assert sessions.count('data-testid="trainer-feedback-link"') == 1
    assert f'href="{url}" data-testid="trainer-feedback-link"' in sessions
    assert f'href="{url}" data-testid="trainer-feedback-link"' in grid
    assert 'data-testid="trainer-feedback-link"' not in coming


def test_staff_find_the_trainers_link_beside_the_funders_on_the_results(client, session, staff):
    client.force_login(staff)
    page = client.get(reverse("learners_quality_results")).text
    assert f'data-trainer-link="{session.pk}"' in page
    assert reverse("learners:trainer_feedback", args=[session.pk]) in page


def test_the_author_of_a_module_of_the_track_may_give_feedback_too(client, session, lea):
    client.force_login(lea)  # owns « Conclure », not a trainer of the session
    response = client.post(reverse("learners:trainer_feedback", args=[session.pk]), RATED)
    assert response.status_code == 200
    assert Feedback.objects.get().author == lea


def test_a_trainer_coming_back_completes_their_feedback_instead_of_adding_one(
    client, session, karim
):
    client.force_login(karim)
    url = reverse("learners:trainer_feedback", args=[session.pk])
    client.post(url, RATED)
    page = client.get(url)
    assert 'data-testid="feedback-editing"' in page.text
    assert "Un groupe engagé." in page.text
    client.post(url, {**RATED, "rating": "5"})
    assert Feedback.objects.get().rating == 5


def test_a_trainer_of_another_session_gets_a_404(client, journey, karim, lea):
    elsewhere = make_session(journey.other_track, lea)  # Léa authors nothing in it
    client.force_login(lea)
    assert client.get(reverse("learners:trainer_feedback", args=[elsewhere.pk])).status_code == 200
    theirs = make_session(journey.other_track, karim)
    url = reverse("learners:trainer_feedback", args=[theirs.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, RATED).status_code == 404
    assert not Feedback.objects.exists()


def test_learners_and_staff_who_do_not_train_get_a_404(client, session, camille, staff):
    for person in (camille, staff):
        client.force_login(person)
        url = reverse("learners:trainer_feedback", args=[session.pk])
        assert client.get(url).status_code == 404


def test_a_rating_out_of_range_is_refused_by_field_and_keeps_the_text(client, session, karim):
    client.force_login(karim)
    response = client.post(
        reverse("learners:trainer_feedback", args=[session.pk]), {**RATED, "rating": "7"}
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["rating"]
    assert "Plus de pauses." in response.text
    assert not Feedback.objects.exists()


# --- Funders ------------------------------------------------------------------------------


FUNDER = {
    "author_name": "Nadia Funder",
    "organisation_name": "Région Nouvelle-Aquitaine",
    **RATED,
}


def test_a_funder_answers_through_the_signed_link_without_an_account(client, session):
    url = reverse("learners:funder_feedback", args=[feedback.funder_token(session)])
    assert client.get(url).status_code == 200
    response = client.post(url, FUNDER)
    assert response.status_code == 200
    row = Feedback.objects.get()
    assert (row.respondent, row.author, row.session) == (
        Feedback.Respondent.FUNDER,
        None,
        session,
    )
    assert (row.author_name, row.organisation_name) == ("Nadia Funder", "Région Nouvelle-Aquitaine")


def test_the_funder_link_used_again_completes_the_same_feedback_rather_than_adding_one(
    client, session
):
    url = reverse("learners:funder_feedback", args=[feedback.funder_token(session)])
    client.post(url, FUNDER)
    again = client.get(url)
    assert 'data-testid="feedback-editing"' in again.content.decode()
    assert "Nadia Funder" in again.content.decode()

    client.post(url, {**FUNDER, "author_name": "Nadia Funder-Martin"})
    client.post(url, FUNDER)

    assert Feedback.objects.filter(respondent=Feedback.Respondent.FUNDER).count() == 1
    assert Feedback.objects.get().author_name == "Nadia Funder"


def test_two_funder_forms_sent_at_once_leave_one_feedback_with_the_last_answers(session):
    # Both requests read « no feedback yet » before either stored its own.
    first, second = feedback.funder_feedback_for(session), feedback.funder_feedback_for(session)
    for row, name in ((first, "Nadia Funder"), (second, "Paul Financeur")):
        row.author_name, row.organisation_name, row.rating = name, "Région", 4

    feedback.save_funder_feedback(first)
    feedback.save_funder_feedback(second)

    assert Feedback.objects.get().author_name == "Paul Financeur"
    assert second.pk == first.pk


def test_a_trainers_double_click_on_a_first_feedback_stores_it_once(session, karim):
    first, second = (feedback.trainer_feedback_of(karim, session) for _ in range(2))
    for row, rating in ((first, 3), (second, 5)):
        row.rating = rating
        feedback.save_trainer_feedback(row)
    assert list(Feedback.objects.values_list("author", "rating")) == [(karim.pk, 5)]


def test_a_tampered_funder_link_is_a_404(client, session, journey):
    token = feedback.funder_token(session)
    other = make_session(journey.other_track)
    # The other session's payload under this session's signature.
    forged = feedback.funder_token(other).split(":", 1)[0] + ":" + token.split(":", 1)[1]
    for bad in (forged, token[:-2] + "xx", "abc", feedback.funder_token(other) + "0"):
        url = reverse("learners:funder_feedback", args=[bad])
        assert client.get(url).status_code == 404
        assert client.post(url, FUNDER).status_code == 404
    assert not Feedback.objects.exists()


def test_a_link_signed_for_another_purpose_is_a_404(client, session):
    from django.core import signing

    token = signing.dumps(session.pk, salt="something.else")
    assert client.get(reverse("learners:funder_feedback", args=[token])).status_code == 404


def test_a_funder_must_give_name_organisation_and_rating(client, session):
    url = reverse("learners:funder_feedback", args=[feedback.funder_token(session)])
    empty = client.post(url, {})
    assert set(empty.context["form"].errors) == {"author_name", "organisation_name", "rating"}
    response = client.post(url, {"strengths": "Bien."})
    assert set(response.context["form"].errors) == {"author_name", "organisation_name", "rating"}
    assert "Bien." in response.text
    assert not Feedback.objects.exists()


def test_a_funder_link_older_than_a_year_is_a_404(client, session):
    from unittest import mock

    a_year_and_a_day_ago = (
        timezone.now() - feedback.FUNDER_LINK_MAX_AGE - timezone.timedelta(days=1)
    )
    with mock.patch("django.core.signing.time.time", return_value=a_year_and_a_day_ago.timestamp()):
        token = feedback.funder_token(session)
    url = reverse("learners:funder_feedback", args=[token])
    assert client.get(url).status_code == 404
    assert client.post(url, FUNDER).status_code == 404
    assert not Feedback.objects.exists()
