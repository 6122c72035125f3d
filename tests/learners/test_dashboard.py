"""« Mon parcours »: enrolments with progress, « Reprendre », the competence map."""

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from learners import services
from learners.models import LedgerEntry, User
from tests.conftest import make_user
from tests.learners.factories import competence, level, make_framework, make_module, make_track


def test_an_empty_dashboard_invites_to_browse_the_catalogue(client, camille, db):
    client.force_login(camille)
    response = client.get("/moi/parcours/")
    assert response.status_code == 200
    assert response.context["path"].is_empty
    html = response.content.decode()
    for section in ("my-tracks", "competence-map", "certificates", "submissions"):
        assert f'data-testid="{section}"' in html


def test_the_dashboard_shows_tracks_modules_progress_and_where_to_resume(client, camille, journey):
    services.enrol(camille, journey.track)
    first, second = journey.basics.lessons()
    services.mark_lesson_done(camille, first)
    client.force_login(camille)

    response = client.get("/moi/parcours/")

    path = response.context["path"]
    (track_row,) = path.tracks
    assert [m.module for m in track_row.modules] == [
        journey.basics,
        journey.advanced,
        journey.closing,
    ]
    assert [m.percent for m in track_row.modules] == [50, 0, 0]
    assert track_row.percent == 20
    assert path.resume == second
    html = response.content.decode()
    assert f'href="{second.url}" id="resume-latest"' in html
    assert 'data-testid="track-enrolment"' in html


def test_resume_follows_the_enrolment_worked_on_most_recently(camille, journey):
    from learners.queries import learning_path

    services.enrol(camille, journey.track)
    standalone_track = make_track(journey.framework, "Parcours bis")
    standalone = make_module(standalone_track, "Module seul", lessons=2, targets=[("B1.1", 1)])
    services.enrol(camille, standalone)
    services.mark_lesson_done(camille, journey.basics.lessons().first())
    services.mark_lesson_done(camille, standalone.lessons().first())
    assert learning_path(camille).resume == standalone.lessons()[1]


def test_the_competence_map_is_an_svg_image_with_a_data_table(client, camille, journey):
    services.enrol(camille, journey.track)
    framework = journey.framework
    for code in ("B1.1", "B1.2"):
        services.record_evidence(
            camille, competence(framework, code), level(framework, 2), LedgerEntry.Source.ASSESSMENT
        )
    client.force_login(camille)

    html = client.get("/moi/parcours/").content.decode()

    assert html.count('data-testid="competence-chart"') == 2  # one chart per block
    assert 'role="img"' in html
    assert '<title id="competence-chart-' in html and '<desc id="competence-chart-' in html
    assert 'data-testid="block-B1" data-validated="true"' in html
    assert 'data-testid="block-B2" data-validated="false"' in html
    assert 'data-testid="block-table-B1"' in html
    assert "Appliquer" in html  # the level reached, in the table


def test_the_map_escapes_what_editors_typed(client, camille, db):
    framework = make_framework(code="X<script>", blocks={"<b>B1</b>": ["C<1>"]})
    track = make_track(framework)
    make_module(track, "M", lessons=1, targets=[("C<1>", 1)])
    services.enrol(camille, track)
    client.force_login(camille)
    html = client.get("/moi/parcours/").content.decode()
    assert "<script>" not in html and "<b>B1</b>" not in html


def _enrol_in_tracks(learner, framework, count):
    for number in range(count):
        track = make_track(framework, f"Parcours {number}")
        module = make_module(track, f"Module {number}", lessons=2, targets=[("B1.1", 1)])
        services.enrol(learner, track)
        services.mark_lesson_done(learner, module.lessons().first())
        if number % 2:
            services.enrol(learner, make_module(track, f"Module seul {number}", lessons=1))


@pytest.mark.parametrize("enrolments", [1, 50])
def test_the_dashboard_stays_within_fifteen_queries(
    client, camille, db, enrolments, django_assert_max_num_queries
):
    framework = make_framework()
    _enrol_in_tracks(camille, framework, enrolments)
    services.record_evidence(
        camille, competence(framework, "B1.1"), level(framework, 2), "assessment"
    )
    client.force_login(camille)
    client.get("/moi/parcours/")  # warm the site-root cache as any running server has
    # The training sessions' query fits since the site is read from the cache.
    with django_assert_max_num_queries(15):
        assert client.get("/moi/parcours/").status_code == 200


def test_the_dashboard_runs_the_same_number_of_queries_for_1_and_50_enrolments(
    client, camille, dominique, db
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    framework = make_framework()
    counts = []
    for learner, enrolments in ((camille, 1), (dominique, 50)):
        _enrol_in_tracks(learner, framework, enrolments)
        services.record_evidence(
            learner, competence(framework, "B1.1"), level(framework, 2), "assessment"
        )
        client.force_login(learner)
        client.get("/moi/parcours/")
        with CaptureQueriesContext(connection) as queries:
            client.get("/moi/parcours/")
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_new_public_agent_is_offered_the_awareness_track_not_an_empty_page(client, demo):
    newcomer = make_user("nouvelle@mairie.fr", "Nouvelle Agente", role=User.Role.PUBLIC_AGENT)
    client.force_login(newcomer)
    page = BeautifulSoup(client.get(reverse("learners:dashboard")).content, "html.parser")
    offered = [a.text for a in page.select('[data-testid="suggested-tracks"] a')]
    assert offered and all("agents" in title.lower() for title in offered)

    facilitator = make_user("nouveau@tiers-lieu.fr", "Nouveau Facilitateur")
    client.force_login(facilitator)
    page = BeautifulSoup(client.get(reverse("learners:dashboard")).content, "html.parser")
    offered = [a.text for a in page.select('[data-testid="suggested-tracks"] a')]
    assert offered and not any("agents" in title.lower() for title in offered)
