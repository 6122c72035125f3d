"""A session's track documents state the session's dates, modality and the hours attended."""

import datetime

import pytest

from certification import eligibility, services
from certification.models import BulkIssue, Certificate
from courses.models.pages import Format
from learners import attendance
from learners.session_models import ActivityEvent, Attendance, HalfDay
from tests.certification.conftest import complete_module, pdf_text
from tests.conftest import make_user
from tests.learners.attendance_helpers import DAY, add_half_day, at, make_session


def graduate(setting, learner) -> None:
    """The learner completed the track's modules online (no signal run: nothing issued)."""
    complete_module(learner, setting.basics)
    complete_module(learner, setting.advanced)


def present(half_day: HalfDay, learner) -> Attendance:
    return Attendance.objects.create(
        half_day=half_day,
        learner=learner,
        status=Attendance.Status.PRESENT,
        method=Attendance.Method.CODE,
        signed_at=at(half_day.date, half_day.starts_at.hour, 5),
    )


def rendered_text(certificate: Certificate) -> str:
    services.render(certificate.pk)
    certificate.refresh_from_db()
    return " ".join(pdf_text(certificate).split()).replace("- ", "-")


def bulk(award, staff, session, capture) -> BulkIssue:
    with capture(execute=True):
        return services.start_bulk(award, staff, BulkIssue.Mode.ISSUE, session)


@pytest.fixture
def session(setting, camille):
    """A blended day of the track, morning and afternoon, with Camille's confirmed seat."""
    session = make_session(setting.track, learners=[camille], title="Session de printemps")
    add_half_day(session, period=HalfDay.Period.MORNING)
    add_half_day(session, period=HalfDay.Period.AFTERNOON)
    return session


def test_a_session_learner_with_no_attendance_is_not_eligible_for_the_certificat_de_realisation(
    setting, camille, session, staff
):
    graduate(setting, camille)
    assert not eligibility.eligible(camille, setting.completion_award, session=session)
    with pytest.raises(services.BulkRefused):
        services.start_bulk(setting.completion_award, staff, BulkIssue.Mode.ISSUE, session)
    assert not Certificate.objects.exists()


def test_an_on_site_half_day_signed_by_personal_link_counts_once_the_trainer_confirms_it(
    setting, camille, karim, session
):
    graduate(setting, camille)
    morning = session.half_days.get(period=HalfDay.Period.MORNING)
    seat = session.seats.get(learner=camille)
    attendance.sign_in_with_link(seat.attendance_token, at=at(DAY, 9, 5))
    assert not eligibility.eligible(camille, setting.completion_award, session=session)

    attendance.record_by_trainer(morning, camille, "present", karim, at=at(DAY, 12))
    assert eligibility.eligible(camille, setting.completion_award, session=session)
    certificate, _ = services.issue(
        camille, setting.completion_award, session=session, render=False
    )
    facts = certificate.context["training"]["session"]
    assert (facts["half_days_attended"], facts["attended_hours"]) == (1, "3.5")


def test_a_session_attended_earns_its_certificat_de_realisation_without_the_online_track(
    setting, camille, dominique, session, staff, django_capture_on_commit_callbacks
):
    # Camille attended the morning and did none of the online modules: her hours are
    # what a funder pays for. Dominique, with a seat, came to none of it.
    from learners.session_models import Seat

    Seat.objects.create(session=session, learner=dominique, status=Seat.Status.CONFIRMED)
    present(session.half_days.get(period=HalfDay.Period.MORNING), camille)
    assert not setting.track.completions.exists()

    bulk(setting.completion_award, staff, session, django_capture_on_commit_callbacks)

    [certificate] = Certificate.objects.filter(award=setting.completion_award)
    assert certificate.learner == camille
    facts = certificate.context["training"]["session"]
    assert (facts["half_days_attended"], facts["attended_hours"]) == (1, "3.5")
    # A seat never attended earns nothing.
    assert not eligibility.eligible(dominique, setting.completion_award, session=session)


def test_a_session_certificat_de_realisation_states_the_sessions_dates_modality_and_hours_attended(
    setting, camille, session, staff, django_capture_on_commit_callbacks
):
    graduate(setting, camille)
    present(session.half_days.get(period=HalfDay.Period.MORNING), camille)
    # Twenty-five minutes of online work that evening (two events, one sitting).
    for minute in (0, 25):
        ActivityEvent.objects.create(
            learner=camille, kind=ActivityEvent.Kind.LESSON_DONE, at=at(DAY, 20, minute)
        )

    job = bulk(setting.completion_award, staff, session, django_capture_on_commit_callbacks)
    certificate = Certificate.objects.get(learner=camille, award=setting.completion_award)

    assert job.total == 1
    training = certificate.context["training"]
    assert (training["start"], training["end"], training["formats"]) == (
        "2026-03-10",
        "2026-03-10",
        ["hybride"],
    )
    assert training["session"] == {
        "id": session.pk,
        "title": "Session de printemps",
        "planned_hours": "7.0",
        "half_days_planned": 2,
        "half_days_attended": 1,
        "attended_hours": "3.5",
        "online_minutes": 25,
    }
    text = rendered_text(certificate)
    assert "Session de printemps" in text
    assert "Dates : le 10 mars 2026" in text
    assert "Modalité : Mixte" in text
    assert "Durée prévue : 7 heures" in text
    assert "Durée réalisée : 3,5 heures en présence (1 demi-journée émargée sur 2)" in text
    assert "Activité en ligne mesurée : 25 min" in text
    assert "10 heures" not in text  # the track's planned hours are not what was done
    # The ministry's model: the provider keeps the supporting documents three years.
    assert "s'engage à conserver l'ensemble des pièces justificatives" in text
    assert "pendant une durée de 3 ans à compter de la fin de l'année du dernier paiement" in text


def test_an_on_site_session_counts_no_online_activity_as_attendance(setting, camille, staff):
    session = make_session(setting.track, learners=[camille], format=Format.ON_SITE)
    add_half_day(session)
    graduate(setting, camille)
    ActivityEvent.objects.create(learner=camille, kind=ActivityEvent.Kind.LOGIN, at=at(DAY, 20, 0))
    assert not eligibility.eligible(camille, setting.completion_award, session=session)


def test_the_attestation_de_fin_de_formation_of_a_session_gives_its_hours_too(
    setting, camille, session, staff, django_capture_on_commit_callbacks
):
    graduate(setting, camille)
    present(session.half_days.get(period=HalfDay.Period.AFTERNOON), camille)
    bulk(setting.end_of_training_award, staff, session, django_capture_on_commit_callbacks)
    certificate = Certificate.objects.get(learner=camille, award=setting.end_of_training_award)
    assert certificate.context["training"]["session"]["attended_hours"] == "3.5"
    text = rendered_text(certificate)
    assert "Durée réalisée : 3,5 heures en présence" in text
    assert "Résultats de l'évaluation des acquis" in text


def test_a_seat_holder_completing_the_track_waits_for_the_session_before_the_certificat(
    setting, camille, session, staff, django_capture_on_commit_callbacks
):
    # Camille finishes the modules online; her session has no attendance recorded.
    with django_capture_on_commit_callbacks(execute=True):
        graduate(setting, camille)
    kinds = set(Certificate.objects.filter(learner=camille).values_list("award__kind", flat=True))
    assert "completion" not in kinds
    assert "end_of_training" in kinds  # issued, for her session, with what she attended
    end = Certificate.objects.get(learner=camille, award=setting.end_of_training_award)
    assert end.context["training"]["session"]["half_days_attended"] == 0

    present(session.half_days.get(period=HalfDay.Period.MORNING), camille)
    bulk(setting.completion_award, staff, session, django_capture_on_commit_callbacks)
    completion = Certificate.objects.get(learner=camille, award=setting.completion_award)
    assert completion.context["training"]["session"]["id"] == session.pk


def test_the_attestation_de_fin_de_formation_waits_for_a_session_still_to_come(
    setting, camille, staff, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    soon = timezone.localdate() + timedelta(days=10)
    coming = make_session(setting.track, learners=[camille], starts_on=soon)
    add_half_day(coming, day=soon, period=HalfDay.Period.MORNING)

    # Camille finishes the modules online before her session: issued now, it would
    # say « en ligne », today, and never mention the session.
    with django_capture_on_commit_callbacks(execute=True):
        graduate(setting, camille)
    assert (
        not Certificate.objects.filter(learner=camille)
        .filter(award__in=[setting.end_of_training_award, setting.completion_award])
        .exists()
    )

    # Over, the session's bulk issues it, with the session's facts.
    yesterday = timezone.localdate() - timedelta(days=1)
    coming.starts_on = coming.ends_on = yesterday
    coming.save()
    coming.half_days.update(date=yesterday)
    present(coming.half_days.get(), camille)
    bulk(setting.end_of_training_award, staff, coming, django_capture_on_commit_callbacks)
    end = Certificate.objects.get(learner=camille, award=setting.end_of_training_award)
    assert end.context["training"]["session"]["id"] == coming.pk


def test_reissuing_a_session_certificate_keeps_its_session(
    setting, camille, session, staff, django_capture_on_commit_callbacks
):
    graduate(setting, camille)
    present(session.half_days.get(period=HalfDay.Period.MORNING), camille)
    certificate, _ = services.issue(
        camille, setting.completion_award, session=session, render=False
    )
    camille.full_name = "Camille Martin-Durand"
    camille.save()
    with django_capture_on_commit_callbacks(execute=False):
        new = services.reissue(certificate, by=staff)
    assert new.context["training"]["session"]["id"] == session.pk


@pytest.mark.parametrize("seats", [5, 30])
def test_a_session_bulk_of_certificats_de_realisation_reads_as_many_queries_for_5_or_30(
    setting, staff, seats, django_assert_max_num_queries
):
    learners = [make_user(f"place{n}@example.org", f"Place {n}") for n in range(seats)]
    session = make_session(setting.track, learners=learners)
    morning = add_half_day(session)
    for learner in learners:
        graduate(setting, learner)
    for learner in learners[::2]:
        present(morning, learner)
    with django_assert_max_num_queries(9):
        job = services.start_bulk(setting.completion_award, staff, BulkIssue.Mode.ISSUE, session)
    assert job.total == len(learners[::2])


def test_a_session_of_mornings_plans_and_states_mornings_only(setting, camille):
    from learners import sessions
    from learners.session_models import Periods

    mornings = make_session(setting.track, learners=[camille], ends_on=DAY + datetime.timedelta(1))
    mornings.periods = Periods.MORNING
    mornings.morning_starts_at, mornings.morning_ends_at = datetime.time(8, 30), datetime.time(12)
    mornings.save()
    sessions.plan_half_days(mornings)
    for half_day in mornings.half_days.all():
        present(half_day, camille)

    certificate, _ = services.issue(
        camille, setting.completion_award, session=mornings, render=False
    )

    facts = certificate.context["training"]["session"]
    assert (facts["half_days_planned"], facts["planned_hours"]) == (2, "7.0")
    assert (facts["half_days_attended"], facts["attended_hours"]) == (2, "7.0")


# --- Issued by themselves once attendance is final -------------------------------------------


def test_the_sessions_documents_are_issued_once_its_attendance_closes(
    setting, camille, dominique, session
):
    from learners.attendance import AMEND_DAYS
    from learners.session_models import Seat

    graduate(setting, camille)
    Seat.objects.create(session=session, learner=dominique, status=Seat.Status.CONFIRMED)
    present(session.half_days.get(period=HalfDay.Period.MORNING), camille)
    closes = session.ends_on + datetime.timedelta(days=AMEND_DAYS)

    # Trainers may still amend the attendance: nothing frozen yet.
    assert services.issue_after_attendance_closes(closes) == 0
    assert not Certificate.objects.exists()

    issued = services.issue_after_attendance_closes(closes + datetime.timedelta(days=1))

    awards = set(Certificate.objects.filter(learner=camille).values_list("award", flat=True))
    assert setting.completion_award.pk in awards and issued == len(awards)
    realisation = Certificate.objects.get(award=setting.completion_award)
    facts = realisation.context["training"]["session"]
    assert (facts["half_days_attended"], facts["attended_hours"]) == (1, "3.5")
    # Dominique came to none of it; running again issues nothing twice.
    assert not Certificate.objects.filter(learner=dominique).exists()
    assert services.issue_after_attendance_closes(closes + datetime.timedelta(days=2)) == 0


def test_finishing_the_track_while_attendance_is_open_issues_nothing_that_would_freeze_it(
    setting, camille, staff, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from learners.attendance import AMEND_DAYS

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    ended = make_session(setting.track, learners=[camille], starts_on=yesterday)
    morning = add_half_day(ended, day=yesterday, period=HalfDay.Period.MORNING)
    afternoon = add_half_day(ended, day=yesterday, period=HalfDay.Period.AFTERNOON)
    present(morning, camille)

    # Camille finishes the modules the day after: her documents would say one half-day.
    with django_capture_on_commit_callbacks(execute=True):
        graduate(setting, camille)
    track_awards = [
        setting.awareness_award,
        setting.end_of_training_award,
        setting.completion_award,
    ]
    assert not Certificate.objects.filter(learner=camille, award__in=track_awards).exists()
    # Nor does a track-wide bulk: only the session's own bulk issues them early.
    assert not eligibility.eligible(camille, setting.completion_award)
    assert eligibility.eligible(camille, setting.completion_award, session=ended)

    # Her trainer records the afternoon she also attended, within the two weeks.
    present(afternoon, camille)
    closed = ended.ends_on + datetime.timedelta(days=AMEND_DAYS + 1)
    assert services.issue_after_attendance_closes(closed) == len(track_awards)

    for award in track_awards:
        facts = Certificate.objects.get(learner=camille, award=award).context["training"]
        assert facts["session"]["half_days_attended"] == 2


def test_a_revocation_withdrawn_while_attendance_is_open_gives_back_that_session_s_document(
    setting, camille, staff, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    ended = make_session(setting.track, learners=[camille], starts_on=yesterday)
    present(add_half_day(ended, day=yesterday), camille)
    # Issued early by the session's staff, then revoked in error.
    bulk(setting.completion_award, staff, ended, django_capture_on_commit_callbacks)
    revoked = Certificate.objects.get(learner=camille, award=setting.completion_award)
    services.revoke(revoked, by=staff, reason="Erreur de saisie")

    with django_capture_on_commit_callbacks(execute=False):
        new = services.restore(revoked, by=staff)

    assert new.context["training"]["session"]["id"] == ended.pk


def test_the_dashboard_says_when_the_documents_of_a_session_just_over_come(
    client, setting, camille, staff, django_capture_on_commit_callbacks
):
    from django.urls import reverse
    from django.utils import timezone

    from learners import page_versions

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    ended = make_session(setting.track, learners=[camille], starts_on=yesterday)
    present(add_half_day(ended, day=yesterday), camille)
    graduate(setting, camille)
    seat = ended.seats.get(learner=camille)
    client.force_login(camille)

    response = client.get(reverse("learners:dashboard"))

    closes, issued = (yesterday + datetime.timedelta(days=d) for d in (14, 15))
    note = note_of(response, seat)
    assert f"corrigées jusqu'au {closes.day} " in note
    assert f"délivrés le {issued.day} " in note
    for award in (setting.end_of_training_award, setting.completion_award):
        assert award.title in note
    # Nothing to cancel in a session over.
    assert f'data-testid="cancel-seat-{seat.pk}"' not in response.content.decode()

    # Issued early by the session's staff: nothing more is announced.
    bulk(setting.completion_award, staff, ended, django_capture_on_commit_callbacks)
    page_versions.touch([camille.pk])
    note = note_of(client.get(reverse("learners:dashboard")), seat)
    assert setting.completion_award.title not in note
    assert setting.end_of_training_award.title in note


def note_of(response, seat) -> str:
    from tests.html_checks import soup_of

    found = soup_of(response).select_one(f"[data-testid=session-over-{seat.pk}]")
    return " ".join(found.get_text().split())


def test_a_session_closed_long_ago_is_left_to_the_staff(setting, camille, session):
    graduate(setting, camille)
    present(session.half_days.get(period=HalfDay.Period.MORNING), camille)
    long_after = session.ends_on + datetime.timedelta(days=60)

    assert services.issue_after_attendance_closes(long_after) == 0


def test_the_beat_issues_them_every_morning(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["certification-issue-after-attendance-closes"]
    assert entry["task"] == "certification.tasks.issue_after_attendance_closes"


def test_a_signature_never_confirmed_is_said_every_day_in_the_log(
    setting, camille, session, caplog
):
    import logging

    from learners.attendance import AMEND_DAYS

    graduate(setting, camille)
    seat = session.seats.get(learner=camille)
    attendance.sign_in_with_link(seat.attendance_token, at=at(DAY, 9, 5))  # on site: to confirm
    closed = session.ends_on + datetime.timedelta(days=AMEND_DAYS + 1)

    with caplog.at_level(logging.WARNING, logger="certification.services"):
        assert services.issue_after_attendance_closes(closed) == 0

    assert "still await a confirmation" in caplog.text
    assert not Certificate.objects.filter(award=setting.completion_award).exists()
