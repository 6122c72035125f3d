"""Satisfaction results per track and session (indicator 30) and the improvement log
(indicator 32), in the Wagtail admin for staff only."""

import csv
import datetime
import html
import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.authoring import ensure_authoring_setup
from courses.models import TrackPage
from learners import feedback, quality, quality_views
from learners.assessment_models import Satisfaction
from learners.quality_models import ColdSurvey, Feedback, ImprovementAction
from learners.session_models import Seat, TrainingSession
from tests.learners.factories import make_framework, make_module, make_track

RESULTS = "learners_quality_results"
RESULTS_CSV = "learners_quality_results_csv"
LOG = "wagtailsnippets_learners_improvementaction:list"
ADD_ACTION = "wagtailsnippets_learners_improvementaction:add"


def make_session(track, title=""):
    today = timezone.localdate()
    return TrainingSession.objects.create(
        track=track, title=title, format="online", starts_on=today, ends_on=today, capacity=10
    )


def cold(learner, track, session=None, *, sent=True, **answer):
    now = timezone.now()
    return ColdSurvey.objects.create(
        learner=learner,
        track=track,
        session=session,
        due_at=now - timedelta(days=30),
        sent_at=now - timedelta(days=30) if sent else None,
        answered_at=now if answer else None,
        **answer,
    )


def give_feedback(track, session, respondent, rating, author=None):
    return Feedback.objects.create(
        track=track,
        session=session,
        respondent=respondent,
        author=author,
        author_name=author.display_name if author else "Financeur",
        rating=rating,
    )


@pytest.fixture
def story(camille, dominique, sophie, helene, karim, lea):
    """One track of two modules and a session where Camille has a confirmed seat and
    Dominique waits; another track with nothing yet."""
    framework = make_framework()
    track = make_track(framework, "Piloter (résultats)")
    first = make_module(track, "Premier", lessons=1)
    second = make_module(track, "Second", lessons=1)
    empty = make_track(framework, "Parcours sans réponse")
    session = make_session(track, "Session de printemps")
    Seat.objects.create(session=session, learner=camille, status=Seat.Status.CONFIRMED)
    Seat.objects.create(session=session, learner=dominique, status=Seat.Status.WAITING)
    # « À chaud »: 5, 3 (Camille, in the session), 4 (Dominique), 2 (Sophie).
    for learner, module, rating in (
        (camille, first, 5),
        (camille, second, 3),
        (dominique, first, 4),
        (sophie, second, 2),
    ):
        Satisfaction.objects.create(learner=learner, module=module, rating=rating)
    # « À froid »: two answered, one sent unanswered, one not sent yet.
    cold(camille, track, session, rating=5, usefulness=4, applied=True)
    cold(dominique, track, rating=3, usefulness=2, applied=False)
    cold(sophie, track)
    cold(helene, track, sent=False)
    give_feedback(track, session, Feedback.Respondent.TRAINER, 4, karim)
    give_feedback(track, session, Feedback.Respondent.TRAINER, 5, lea)
    give_feedback(track, session, Feedback.Respondent.FUNDER, 3)
    give_feedback(track, None, Feedback.Respondent.TRAINER, 2, karim)
    return track, session, empty


def by_track(results):
    return {item.track.title: item for item in results}


# --- Arithmetic ---------------------------------------------------------------------------


def test_track_figures_add_up_every_answer_of_its_modules_and_surveys(story):
    track, _, _ = story
    figures = by_track(quality.results())[track.title].figures
    assert (figures.hot.count, figures.hot.average, figures.hot.satisfied_percent) == (
        4,
        3.5,
        50.0,
    )
    assert (figures.cold_scheduled, figures.cold_sent, figures.cold_answered) == (4, 3, 2)
    assert figures.cold_response_percent == 66.7
    assert (figures.cold_rating.average, figures.cold_usefulness.average) == (4.0, 3.0)
    assert figures.cold_applied_percent == 50.0
    assert (figures.trainer_feedback_count, figures.trainer_feedback.average) == (3, 3.7)
    assert (figures.funder_feedback_count, figures.funder_feedback.average) == (1, 3.0)


def test_a_session_counts_only_its_confirmed_learners_and_its_own_surveys(story):
    track, session, _ = story
    (row,) = by_track(quality.results())[track.title].sessions
    figures = row.figures
    assert row.session == session
    assert (figures.hot.count, figures.hot.average, figures.hot.satisfied_percent) == (
        2,
        4.0,
        50.0,
    )
    assert (figures.cold_sent, figures.cold_answered, figures.cold_response_percent) == (
        1,
        1,
        100.0,
    )
    assert (figures.cold_rating.average, figures.cold_applied_percent) == (5.0, 100.0)
    assert (figures.trainer_feedback_count, figures.trainer_feedback.average) == (2, 4.5)
    assert (figures.funder_feedback_count, figures.funder_feedback.average) == (1, 3.0)


def test_a_track_without_answers_has_blank_figures_not_zero_percent(story):
    _, _, empty = story
    figures = by_track(quality.results())[empty.title].figures
    assert figures.hot.count == 0
    assert figures.hot.average is None and figures.hot.satisfied_percent is None
    assert figures.cold_response_percent is None and figures.cold_applied_percent is None


# --- CSV ----------------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_the_csv_has_a_line_per_track_and_per_session(client, staff, story):
    track, session, empty = story
    client.force_login(staff)
    response = client.get(reverse(RESULTS_CSV))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    # The results page's French headings, and decimal commas a French spreadsheet reads.
    assert [(r["Parcours"], r["Session"]) for r in rows] == [
        (track.title, ""),
        (track.title, str(session)),
        (empty.title, ""),
    ]
    whole, spring, nothing = rows
    hot = ("Réponses « à chaud »", "Moyenne « à chaud » (/5)", "Satisfait·es « à chaud » (%)")
    assert [whole[column] for column in hot] == ["4", "3,5", "50,0"]
    cold = (
        "Questionnaires « à froid » envoyés",
        "Réponses « à froid »",
        "Taux de réponse « à froid » (%)",
    )
    assert [whole[column] for column in cold] == ["3", "2", "66,7"]
    trainers = ("Retours des formateur·rices", "Moyenne des formateur·rices (/5)")
    assert [spring[column] for column in trainers] == ["2", "4,5"]
    assert [nothing[column] for column in hot[:2]] == ["0", ""]


def test_the_csv_neutralises_a_track_title_that_looks_like_a_formula(client, staff, story):
    track, _, _ = story
    track.title = "=HYPERLINK(1)"
    track.save()
    client.force_login(staff)
    rows = read_csv(client.get(reverse(RESULTS_CSV)))
    assert rows[0]["Parcours"] == "'=HYPERLINK(1)"


# --- The results page -----------------------------------------------------------------------


def test_staff_see_each_track_with_its_funder_link_and_add_action_links(client, staff, story):
    track, session, _ = story
    client.force_login(staff)
    response = client.get(reverse(RESULTS))
    assert response.status_code == 200
    page = response.text
    assert f'data-track="{track.pk}"' in page
    assert 'data-figure="cold_response_percent"' in page
    link = re.search(rf'href="[^"]*/financeur/([^"/]+)/" data-funder-link="{session.pk}"', page)
    assert feedback.session_pk_from_funder_token(link.group(1)) == session.pk
    assert f"track={track.pk}" in page and f"session={session.pk}" in page


@pytest.mark.parametrize("persona", ["camille", "karim"])
def test_the_results_and_their_csv_are_refused_to_non_staff(client, story, persona, request):
    ensure_authoring_setup()
    client.force_login(request.getfixturevalue(persona))
    for name in (RESULTS, RESULTS_CSV):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path in ("/cms-admin/login/", "/cms-admin/")


def populate(tracks: int, learners: list) -> None:
    framework = make_framework()
    for index in range(tracks):
        track = make_track(framework, f"Parcours {index}")
        module = make_module(track, f"Module {index}", lessons=1)
        session = make_session(track)
        for learner in learners:
            Seat.objects.create(session=session, learner=learner, status=Seat.Status.CONFIRMED)
            Satisfaction.objects.create(learner=learner, module=module, rating=4)
            cold(learner, track, session, rating=4, usefulness=4, applied=True)
        give_feedback(track, session, Feedback.Respondent.FUNDER, 5)


@pytest.mark.parametrize("tracks", [2, 10])
def test_results_read_the_same_number_of_queries_for_2_or_10_tracks(
    client, staff, camille, dominique, tracks, django_assert_max_num_queries
):
    populate(tracks, [camille, dominique])
    with django_assert_max_num_queries(7):
        results = quality.results()
    assert len(results) == tracks
    assert all(item.figures.hot.count == 2 for item in results)
    client.force_login(staff)
    with django_assert_max_num_queries(30):
        assert client.get(reverse(RESULTS)).status_code == 200


# --- Improvement log ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["camille", "karim"])
def test_the_improvement_log_is_staff_only(client, db, persona, request):
    ensure_authoring_setup()  # trainers have admin access, as in production
    client.force_login(request.getfixturevalue(persona))
    for url in (reverse(LOG), reverse(ADD_ACTION)):
        response = client.get(url)
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path in ("/cms-admin/login/", "/cms-admin/")


def test_staff_list_the_log_filtered_by_status(client, staff, story):
    track, _, _ = story
    ImprovementAction.objects.create(
        track=track, source="satisfaction", finding="Trop dense", action="Alléger"
    )
    ImprovementAction.objects.create(
        track=track, source="complaint", finding="Salle froide", action="Chauffer", status="done"
    )
    client.force_login(staff)
    response = client.get(reverse(LOG), {"status": "done"})
    assert response.status_code == 200
    assert "Salle froide" in response.text and "Trop dense" not in response.text


def test_add_an_action_arrives_prefilled_and_records_who_wrote_it(client, staff, story):
    track, session, _ = story
    client.force_login(staff)
    url = reverse(ADD_ACTION)
    query = {"track": track.pk, "session": session.pk, "source": "satisfaction"}
    form = client.get(url, query).context["form"]
    assert (form.initial["track"], form.initial["session"]) == (str(track.pk), str(session.pk))
    response = client.post(
        url,
        {
            "track": track.pk,
            "session": session.pk,
            "source": "satisfaction",
            "finding": "Taux de réponse à froid faible",
            "action": "Relancer par téléphone",
            "status": "planned",
        },
    )
    assert response.status_code == 302
    action = ImprovementAction.objects.get()
    assert (action.track_id, action.session, action.recorded_by) == (track.pk, session, staff)


@pytest.mark.parametrize(
    "query",
    [
        {"track": "abc"},
        {"session": "abc"},
        {"track": "1 OR 1=1", "session": "-3"},
        {"track": "9" * 30, "session": "²"},
        {"source": "nonsense"},
    ],
    ids=["track", "session", "not digits", "too long or not ascii", "source"],
)
def test_add_an_action_ignores_prefilled_values_that_are_not_ids_or_sources(
    client, staff, db, query
):
    client.force_login(staff)
    response = client.get(reverse(ADD_ACTION), query)
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert all(initial.get(name) in (None, "") for name in query)


def test_an_action_on_a_session_of_another_track_is_refused(client, staff, story):
    track, _, empty = story
    client.force_login(staff)
    response = client.post(
        reverse(ADD_ACTION),
        {
            "track": empty.pk,
            "session": make_session(track).pk,
            "source": "other",
            "finding": "Constat",
            "action": "Action",
            "status": "planned",
        },
    )
    assert response.status_code == 200
    assert "session" in response.context["form"].errors
    assert not ImprovementAction.objects.exists()


@pytest.mark.parametrize(
    ("status", "done_at", "refusal"),
    [
        ("done", "", "Indiquez la date à laquelle l'action a été réalisée."),
        ("planned", "2026-11-02", "Une action pas encore terminée n'a pas de date de réalisation"),
    ],
)
def test_an_action_done_says_when_and_one_to_do_says_nothing(
    client, staff, story, status, done_at, refusal
):
    track, _, _ = story
    client.force_login(staff)
    data = {"track": track.pk, "source": "other", "finding": "Constat", "action": "Action"}
    response = client.post(reverse(ADD_ACTION), {**data, "status": status, "done_at": done_at})

    assert response.status_code == 200
    assert refusal in html.unescape(response.text)
    assert not ImprovementAction.objects.exists()
    client.post(reverse(ADD_ACTION), {**data, "status": "done", "done_at": "2026-11-02"})
    assert ImprovementAction.objects.get().done_at == datetime.date(2026, 11, 2)


# --- Demo ---------------------------------------------------------------------------------


def test_the_demo_track_has_answered_surveys_a_trainer_feedback_and_an_action(demo):
    from learners import demo as learners_demo

    track = TrackPage.objects.get(slug=learners_demo.DEMO_TRACK)
    figures = by_track(quality.results())[track.title].figures
    assert figures.cold_answered >= 3
    assert figures.trainer_feedback_count == 1
    assert ImprovementAction.objects.filter(track=track).count() == 1
    counts = [model.objects.count() for model in (ColdSurvey, Feedback, ImprovementAction)]
    learners_demo.seed()
    assert [model.objects.count() for model in (ColdSurvey, Feedback, ImprovementAction)] == counts


# --- Staff need the results permission --------------------------------------------------------


def _staff_member(*codenames: str):
    """Someone of the operating team with admin access, no superuser, and the permissions named."""
    from django.contrib.auth.models import Permission

    from tests.conftest import make_user

    member = make_user("equipe@example.org", "Équipe Qualité", is_staff=True)
    member.user_permissions.add(
        *Permission.objects.filter(codename__in=("access_admin", *codenames))
    )
    return member


def test_staff_without_the_results_permission_are_refused_the_results(client, story):
    member = _staff_member()
    client.force_login(member)
    for name in (RESULTS, RESULTS_CSV):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == "/cms-admin/"
    assert not quality_views.can_see_results(member)


def test_staff_granted_the_results_permission_see_them(client, story):
    member = _staff_member("view_quality_results")
    client.force_login(member)
    assert client.get(reverse(RESULTS)).status_code == 200
    assert client.get(reverse(RESULTS_CSV)).status_code == 200
    assert quality_views.can_see_results(member)
