"""The attendance sheet: a real PDF, read back, for the session's trainers and staff only."""

import io

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from certification.attendance_sheet import render_attendance_sheet
from learners import attendance
from learners.attendance import STATE_LABELS, CellState
from learners.session_models import Attendance
from tests.learners.attendance_helpers import DAY, add_half_day, at, make_session


@pytest.fixture
def session(setting, karim, camille, dominique, sophie):
    """Camille signed the morning by code and Karim confirmed it; Dominique was marked
    absent; nobody recorded anything for Sophie; everyone signed nothing in the afternoon."""
    session = make_session(
        setting.track,
        trainers=[karim],
        learners=[camille, dominique, sophie],
        title="Session de printemps — Die",
    )
    morning = add_half_day(session)
    add_half_day(session, period="pm")
    attendance.sign_in_with_code(camille, morning.code, at=at(DAY, 9, 12))
    attendance.confirm_all_signed(morning, karim, at=at(DAY, 12, 0))
    attendance.record_by_trainer(
        morning, dominique, Attendance.Status.ABSENT, karim, at=at(DAY, 10)
    )
    return session


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def french(label) -> str:
    with translation.override("fr"):
        return str(label)


def test_the_sheet_names_the_session_its_people_and_each_status(
    session, setting, karim, camille, dominique, sophie, settings
):
    pdf = render_attendance_sheet(session, at=at(DAY, 18))

    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    for expected in [
        settings.CAMPUS_PROVIDER_NAME,
        setting.track.title,
        "Session de printemps — Die",
        "Fabrique de territoire de Die",
        "10/03/2026",
        karim.full_name,
        camille.full_name,
        dominique.full_name,
        sophie.full_name,
        "09:12",  # when Camille signed
        "09:00–12:30",
        french(STATE_LABELS[CellState.ABSENT]),
        french(STATE_LABELS[CellState.UNSIGNED]),
    ]:
        assert expected in text, expected
    assert "3 h 30" in text  # Camille's hours attended: the morning


def test_the_sheet_gives_the_planned_duration_and_the_provider_s_identifiers(session, settings):
    settings.CAMPUS_PROVIDER_NDA = "84 26 01234 26"
    settings.CAMPUS_PROVIDER_SIRET = "123 456 789 00012"

    text = text_of(render_attendance_sheet(session, at=at(DAY, 18)))

    assert "Durée prévue : 7 h" in text  # two half-days of 3 h 30
    assert "déclaration d'activité n° 84 26 01234 26" in text
    assert "SIRET 123 456 789 00012" in text


def test_the_sheet_is_a_tagged_a4_portrait_pdf(session):
    reader = PdfReader(io.BytesIO(render_attendance_sheet(session, at=at(DAY, 18))))

    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 portrait, in points
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    assert session.title in reader.metadata.title


def test_the_sheet_never_fetches_what_a_name_points_to(session, camille):
    camille.full_name = '<img src="http://example.org/x.png">Camille'
    camille.save(update_fields=["full_name"])

    text = text_of(render_attendance_sheet(session, at=at(DAY, 18)))

    assert '<img src="http://example.org/x.png">Camille' in text  # escaped, printed as text


def test_the_sessions_trainer_downloads_the_sheet(client, session, karim):
    client.force_login(karim)

    response = client.get(reverse("certification:attendance_sheet", args=[session.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize("persona", ["lea", "camille", "helene"])
def test_only_the_sessions_trainers_and_staff_download_the_sheet(
    client, request, session, persona, staff
):
    url = reverse("certification:attendance_sheet", args=[session.pk])
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url).status_code == 404
    client.force_login(staff)
    assert client.get(url).status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client, session):
    response = client.get(reverse("certification:attendance_sheet", args=[session.pk]))

    assert response.status_code == 302
