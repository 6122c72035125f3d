"""Staff gather a session's Qualiopi evidence into one ZIP, built by a task with a progress bar."""

import csv
import datetime
import importlib.util
import io
import zipfile
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from certification import evidence, services, tasks
from certification.models import Certificate, EvidencePack
from certification.wagtail_hooks import evidence_pack_button
from courses.models.pages import Format
from learners.activity import session_window
from learners.models import Attempt, Satisfaction
from learners.quality_models import ColdSurvey, Feedback, ImprovementAction
from learners.session_models import ActivityEvent, Attendance, HalfDay, Seat, TrainingSession
from tests.conftest import make_user

SHEET_SHIPPED = importlib.util.find_spec("certification.attendance_sheet") is not None


@pytest.fixture
def session(setting, camille, dominique, sophie, karim, marc) -> TrainingSession:
    """Camille, Dominique and Sophie attend two half-days; Marc cancelled his seat.

    Camille and Dominique hold both track certificates (not rendered yet);
    Sophie holds none. Each has answered a little of everything.
    """
    day = timezone.localdate() - datetime.timedelta(days=20)
    session = TrainingSession.objects.create(
        track=setting.track,
        title="Session de printemps — Die",
        format=Format.ON_SITE,
        starts_on=day,
        ends_on=day,
        place_name="La Fabrique des Monts",
        capacity=10,
    )
    session.trainers.add(karim)
    for learner in (camille, dominique, sophie):
        Seat.objects.create(session=session, learner=learner, status=Seat.Status.CONFIRMED)
    Seat.objects.create(session=session, learner=marc, status=Seat.Status.CANCELLED)
    morning = HalfDay.objects.create(
        session=session,
        date=day,
        period=HalfDay.Period.MORNING,
        starts_at=datetime.time(9),
        ends_at=datetime.time(12, 30),
    )
    afternoon = HalfDay.objects.create(
        session=session,
        date=day,
        period=HalfDay.Period.AFTERNOON,
        starts_at=datetime.time(14),
        ends_at=datetime.time(17),
    )
    for half_day in (morning, afternoon):
        for learner in (camille, dominique):
            Attendance.objects.create(
                half_day=half_day,
                learner=learner,
                status=Attendance.Status.PRESENT,
                method=Attendance.Method.CODE,
                signed_at=timezone.now(),
            )
    Attendance.objects.create(
        half_day=morning,
        learner=sophie,
        status=Attendance.Status.ABSENT,
        method=Attendance.Method.TRAINER,
        confirmed_by=karim,
    )
    for learner in (camille, dominique):
        services.issue(learner, setting.completion_award)
        services.issue(learner, setting.end_of_training_award)
    for learner, score in ((camille, 80), (dominique, 40)):
        Attempt.objects.create(
            learner=learner,
            kind=Attempt.Kind.POSITIONING,
            track=setting.track,
            pass_mark=0,
            feedback_policy="immediately",
            status=Attempt.Status.SUBMITTED,
            submitted_at=timezone.now(),
            score=score,
            competence_scores={"B1.1": score},
        )
        Attempt.objects.create(
            learner=learner,
            module=setting.basics,
            pass_mark=70,
            feedback_policy="immediately",
            status=Attempt.Status.SUBMITTED,
            submitted_at=timezone.now(),
            score=score + 10,
            passed=score + 10 >= 70,
        )
    # Neither an unfinished attempt nor someone outside the session belongs in the pack.
    Attempt.objects.create(
        learner=sophie, module=setting.basics, pass_mark=70, feedback_policy="immediately"
    )
    Attempt.objects.create(
        learner=marc,
        module=setting.basics,
        pass_mark=70,
        feedback_policy="immediately",
        status=Attempt.Status.SUBMITTED,
        score=100,
        passed=True,
    )
    Satisfaction.objects.create(learner=camille, module=setting.basics, rating=5, comment="Top")
    Satisfaction.objects.create(
        learner=dominique, module=setting.basics, rating=4, comment="=HYPERLINK(1)"
    )
    Satisfaction.objects.create(learner=marc, module=setting.basics, rating=1)
    ColdSurvey.objects.create(
        learner=camille,
        track=setting.track,
        session=session,
        due_at=timezone.now(),
        sent_at=timezone.now(),
        answered_at=timezone.now(),
        rating=4,
        usefulness=5,
        applied=True,
        comment="Je m'en sers chaque semaine",
    )
    Feedback.objects.create(
        track=setting.track,
        session=session,
        respondent=Feedback.Respondent.FUNDER,
        author_name="Agnès Financeur",
        organisation_name="Région Test",
        rating=4,
        strengths="Bonne dynamique",
    )
    return session


def build(session, by, capture) -> EvidencePack:
    with capture(execute=True):
        pack = evidence.request_pack(session, by)
    pack.refresh_from_db()
    return pack


def open_zip(pack) -> zipfile.ZipFile:
    with pack.file.open("rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


def pdf_text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def csv_rows(archive, name) -> list[dict]:
    text = archive.read(name).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


@pytest.fixture
def built(session, staff, django_capture_on_commit_callbacks):
    pack = build(session, staff, django_capture_on_commit_callbacks)
    assert pack.status == EvidencePack.Status.DONE, pack.error
    return pack


def test_the_pack_holds_each_kind_of_evidence_in_its_numbered_folder(built):
    names = set(open_zip(built).namelist())

    expected = {
        evidence.ATTENDANCE_CSV,
        "02-certificats-de-realisation/camille-martin.pdf",
        "02-certificats-de-realisation/dominique-petit.pdf",
        "03-attestations-fin-de-formation/camille-martin.pdf",
        "03-attestations-fin-de-formation/dominique-petit.pdf",
        evidence.RESULTS_CSV,
        evidence.RESULTS_PDF,
        evidence.SATISFACTION_CSV,
        evidence.SATISFACTION_PDF,
        evidence.IMPROVEMENT_CSV,
        evidence.README,
    }
    if SHEET_SHIPPED:
        expected.add(evidence.ATTENDANCE_SHEET)
    assert names == expected
    if SHEET_SHIPPED:
        assert "Camille Martin" in pdf_text_of(open_zip(built).read(evidence.ATTENDANCE_SHEET))
    assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in open_zip(built).infolist())


def test_the_pack_holds_the_actions_decided_for_the_session_and_its_track(
    session, setting, staff, django_capture_on_commit_callbacks
):
    other = TrainingSession.objects.create(
        track=session.track,
        format=Format.ONLINE,
        starts_on=session.starts_on,
        ends_on=session.ends_on,
        capacity=5,
    )
    common = {"source": ImprovementAction.Source.SATISFACTION, "recorded_by": staff}
    ImprovementAction.objects.create(
        track=session.track,
        session=session,
        finding="Salle trop petite",
        action="Réserver la grande salle",
        status="done",
        done_at=datetime.date(2026, 3, 20),
        **common,
    )
    ImprovementAction.objects.create(
        track=session.track, finding="Module 2 trop long", action="Le scinder", **common
    )
    ImprovementAction.objects.create(
        track=session.track, session=other, finding="Autre session", action="—", **common
    )

    pack = build(session, staff, django_capture_on_commit_callbacks)

    rows = csv_rows(open_zip(pack), evidence.IMPROVEMENT_CSV)
    assert [(r["constat"], r["portee"], r["statut"], r["realisee_le"]) for r in rows] == [
        ("Salle trop petite", "session", "Terminé", "20/03/2026"),
        ("Module 2 trop long", "parcours", "Prévu", ""),
    ]
    assert "06-amelioration/actions.csv" in open_zip(pack).read(evidence.README).decode()


def test_two_learners_of_the_same_name_stay_two_people_in_every_file(
    session, dominique, staff, django_capture_on_commit_callbacks
):
    from learners.models import User

    User.objects.filter(pk=dominique.pk).update(full_name="Camille Martin")

    pack = build(session, staff, django_capture_on_commit_callbacks)

    archive = open_zip(pack)
    named = {row["apprenant"] for row in csv_rows(archive, evidence.ATTENDANCE_CSV)}
    assert named == {"Camille Martin (1)", "Camille Martin (2)", "Sophie Lefèvre"}
    results = {row["apprenant"] for row in csv_rows(archive, evidence.RESULTS_CSV)}
    assert {"Camille Martin (1)", "Camille Martin (2)"} <= results
    summary = pdf_text_of(archive.read(evidence.RESULTS_PDF))
    assert "Camille Martin (1)" in summary and "Camille Martin (2)" in summary
    readme = archive.read(evidence.README).decode()
    assert "Camille Martin (1), Camille Martin (2), Sophie Lefèvre" in readme


def test_progress_counts_every_file_and_reaches_100_percent(built, client, staff):
    assert (built.done, built.total, built.percent) == (
        built.total,
        len(open_zip(built).namelist()),
        100,
    )
    client.force_login(staff)
    progress = client.get(reverse("certification:evidence_progress_json", args=[built.pk])).json()
    assert progress == {
        "status": "done",
        "total": built.total,
        "done": built.total,
        "percent": 100,
        "finished": True,
    }


def test_the_recorded_sha256_is_the_zips(built):
    import hashlib

    with built.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == built.sha256


def test_certificates_missing_their_pdf_are_rendered_and_packed_with_the_holders_name(built):
    assert not Certificate.objects.filter(pdf="").exists()
    archive = open_zip(built)
    for folder in ("02-certificats-de-realisation", "03-attestations-fin-de-formation"):
        text = pdf_text_of(archive.read(f"{folder}/camille-martin.pdf"))
        assert "Camille Martin" in text
    certificate = Certificate.objects.get(
        learner__email="dominique@example.org", award__kind="completion"
    )
    with certificate.pdf.open("rb") as handle:
        assert archive.read("02-certificats-de-realisation/dominique-petit.pdf") == handle.read()


def test_a_half_day_over_before_a_learner_s_place_reads_as_on_the_sheet(
    session, staff, django_capture_on_commit_callbacks
):
    # Given a place at lunchtime on the session's day: the morning was not hers to sign.
    late = make_user("karl@example.org", "Karl Late")
    day = session.starts_on
    lunch = timezone.make_aware(datetime.datetime.combine(day, datetime.time(13)))
    Seat.objects.create(
        session=session, learner=late, status=Seat.Status.CONFIRMED, confirmed_at=lunch
    )

    rows = csv_rows(
        open_zip(build(session, staff, django_capture_on_commit_callbacks)), evidence.ATTENDANCE_CSV
    )

    mine = [(row["demi_journee"], row["statut"]) for row in rows if row["apprenant"] == "Karl Late"]
    assert mine == [("matin", "pas encore inscrit·e"), ("après-midi", "non renseigné")]


def test_attendance_lists_each_learner_for_each_half_day(built):
    rows = csv_rows(open_zip(built), evidence.ATTENDANCE_CSV)
    assert [(row["apprenant"], row["demi_journee"], row["statut"]) for row in rows] == [
        ("Camille Martin", "matin", "présent"),
        ("Camille Martin", "après-midi", "présent"),
        ("Dominique Petit", "matin", "présent"),
        ("Dominique Petit", "après-midi", "présent"),
        ("Sophie Lefèvre", "matin", "absent"),
        ("Sophie Lefèvre", "après-midi", evidence.NOT_RECORDED),
    ]
    assert rows[4]["confirme_par"] == "Karim Benali"
    assert "Marc Girard" not in {row["apprenant"] for row in rows}


def test_results_have_one_row_per_finished_attempt_of_the_sessions_learners(built, setting):
    archive = open_zip(built)
    rows = csv_rows(archive, evidence.RESULTS_CSV)
    assert [
        (row["apprenant"], row["module_ou_parcours"], row["score_pourcent"], row["reussie"])
        for row in rows
    ] == [
        ("Camille Martin", setting.track.title, "80", ""),
        ("Camille Martin", "Les bases", "90", "oui"),
        ("Dominique Petit", setting.track.title, "40", ""),
        ("Dominique Petit", "Les bases", "50", "non"),
    ]
    assert rows[0]["scores_par_competence"] == "B1.1 : 80"
    text = pdf_text_of(archive.read(evidence.RESULTS_PDF))
    assert "Camille Martin" in text and "Dominique Petit" in text
    assert "Marc Girard" not in text


def test_satisfaction_gathers_hot_and_cold_answers_and_feedback_without_learners_names(built):
    archive = open_zip(built)
    rows = csv_rows(archive, evidence.SATISFACTION_CSV)
    assert [(row["type"], row["note_sur_5"]) for row in rows] == [
        (evidence.HOT, "5"),
        (evidence.HOT, "4"),
        (evidence.COLD, "4"),
        (evidence.FUNDER, "4"),
    ]
    # A comment typed as a formula stays text in a spreadsheet.
    assert rows[1]["commentaire"] == "'=HYPERLINK(1)"
    assert rows[3]["repondant"] == "Agnès Financeur"
    assert not {"Camille Martin", "Dominique Petit"} & {row["repondant"] for row in rows}
    text = pdf_text_of(archive.read(evidence.SATISFACTION_PDF))
    assert "Agnès Financeur" in text
    assert "Je m'en sers chaque semaine" in text
    assert "Camille Martin" not in text


def test_the_readme_lists_the_contents_and_who_lacks_a_certificate(built):
    archive = open_zip(built)
    readme = archive.read(evidence.README).decode("utf-8")
    for name in archive.namelist():
        if name != evidence.README:
            assert name in readme
    assert timezone.localdate().strftime("%d/%m/%Y") in readme
    missing = readme.strip().split("\r\n\r\n")[-1]
    assert "Sophie Lefèvre" in missing
    assert "Camille Martin" not in missing


def test_a_certificate_issued_for_another_session_is_not_packed_as_this_ones(
    session, staff, dominique, django_capture_on_commit_callbacks
):
    # Dominique took the track in an earlier session: her certificat de réalisation
    # states that session's dates and hours, and she may hold it only once.
    earlier = TrainingSession.objects.create(
        track=session.track,
        title="Session d'hiver",
        format=Format.ONLINE,
        starts_on=session.starts_on - datetime.timedelta(days=90),
        ends_on=session.starts_on - datetime.timedelta(days=90),
        capacity=10,
    )
    certificate = Certificate.objects.get(learner=dominique, award__kind="completion")
    certificate.context["training"]["session"]["id"] = earlier.pk
    Certificate.objects.filter(pk=certificate.pk).update(context=certificate.context)

    pack = build(session, staff, django_capture_on_commit_callbacks)

    archive = open_zip(pack)
    assert "02-certificats-de-realisation/dominique-petit.pdf" not in archive.namelist()
    assert "03-attestations-fin-de-formation/dominique-petit.pdf" in archive.namelist()
    missing = archive.read(evidence.README).decode("utf-8").strip().split("\r\n\r\n")[-1]
    assert "Dominique Petit (délivré pour une autre session ou en autonomie" in missing


def test_rebuilding_replaces_the_zip_and_deletes_the_previous_one(
    built, staff, django_capture_on_commit_callbacks, camille, setting
):
    Satisfaction.objects.filter(learner=camille).update(rating=2)

    with django_capture_on_commit_callbacks(execute=True):
        evidence.rebuild_pack(built)
    built.refresh_from_db()

    assert (built.status, built.percent) == ("done", 100)
    folder = Path(built.file.path).parent
    assert sorted(p.name for p in folder.iterdir()) == [Path(built.file.name).name]
    rows = csv_rows(open_zip(built), evidence.SATISFACTION_CSV)
    assert rows[0]["note_sur_5"] == "2"


def test_a_redelivered_build_of_a_finished_pack_changes_nothing(built):
    assert evidence.build_pack(built.pk) is evidence.BuildOutcome.ALREADY_DONE
    assert tasks.build_evidence_pack.delay(built.pk).get() == "already_done"
    assert EvidencePack.objects.get(pk=built.pk).sha256 == built.sha256


def test_a_build_another_worker_holds_is_left_to_it(session, staff):
    pack = EvidencePack.objects.create(
        session=session, status=EvidencePack.Status.BUILDING, claimed_at=timezone.now()
    )
    assert evidence.build_pack(pack.pk) is evidence.BuildOutcome.BUSY


def test_a_failure_is_shown_to_staff_and_a_retry_builds_the_pack(
    session, staff, client, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(*args):
        raise ValueError("template exploded")

    with monkeypatch.context() as patch:
        patch.setattr(evidence, "results_pdf", broken)
        pack = build(session, staff, django_capture_on_commit_callbacks)

    assert pack.status == EvidencePack.Status.FAILED
    assert "template exploded" in pack.error
    client.force_login(staff)
    page = client.get(reverse("certification:evidence_progress", args=[pack.pk]))
    assert 'data-testid="evidence-error"' in page.text and "template exploded" in page.text
    assert client.get(reverse("certification:evidence_download", args=[pack.pk])).status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("certification:evidence_rebuild", args=[pack.pk]))
    assert response["Location"] == reverse("certification:evidence_progress", args=[pack.pk])
    pack.refresh_from_db()
    assert (pack.status, pack.error, pack.percent) == ("done", "", 100)


def test_a_pack_left_pending_by_a_dead_broker_is_built_by_the_periodic_pass(
    session, staff, django_capture_on_commit_callbacks, monkeypatch
):
    with monkeypatch.context() as patch:
        patch.setattr(tasks, "enqueue", lambda *args, **kwargs: False)
        pack = build(session, staff, django_capture_on_commit_callbacks)
    assert pack.status == EvidencePack.Status.PENDING

    assert evidence.resume_stale() == 0  # too fresh: a worker may still take it
    later = timezone.now() + evidence.STALE_AFTER + datetime.timedelta(seconds=1)
    assert evidence.resume_stale(now=later) == 1
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.DONE


def test_a_second_request_while_one_is_under_way_starts_no_second_build(session, staff):
    first = evidence.request_pack(session, staff)
    assert evidence.request_pack(session, staff) == first
    assert EvidencePack.objects.count() == 1


def test_staff_request_a_pack_from_the_admin_and_download_it_once_ready(
    session, staff, client, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    url = reverse("certification_evidence_request", args=[session.pk])
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    pack = EvidencePack.objects.get()
    assert response["Location"] == reverse("certification:evidence_progress", args=[pack.pk])
    assert pack.requested_by == staff

    page = client.get(response["Location"])
    assert 'data-testid="evidence-download"' in page.text
    listing = client.get(reverse("certification_evidence_packs"))
    assert f'data-session="{session.pk}"' in listing.text
    download = client.get(reverse("certification:evidence_download", args=[pack.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    data = b"".join(download.streaming_content)
    assert evidence.README in zipfile.ZipFile(io.BytesIO(data)).namelist()


@pytest.mark.parametrize("persona", ["camille", "karim", "helene"])
def test_only_staff_see_or_download_a_pack(built, client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    for name in ("evidence_download", "evidence_progress", "evidence_progress_json"):
        assert client.get(reverse(f"certification:{name}", args=[built.pk])).status_code == 404
    assert (
        client.post(reverse("certification:evidence_rebuild", args=[built.pk])).status_code == 404
    )
    assert EvidencePack.objects.get(pk=built.pk).status == EvidencePack.Status.DONE


def test_staff_who_only_manage_certificates_neither_build_nor_read_a_pack(built, client, session):
    from django.contrib.auth.models import Permission

    certificates_only = make_user("certificats@example.org", "Gestion Certificats", is_staff=True)
    certificates_only.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="certification", codename__endswith="_certificate"
        ),
        Permission.objects.get(codename="access_admin"),
    )
    client.force_login(certificates_only)

    for name in ("evidence_download", "evidence_progress", "evidence_progress_json"):
        assert client.get(reverse(f"certification:{name}", args=[built.pk])).status_code == 404
    # The admin answers a refusal with its dashboard.
    refused = client.get(reverse("certification_evidence_packs"))
    assert (refused.status_code, refused["Location"]) == (302, "/cms-admin/")
    refused = client.post(reverse("certification_evidence_request", args=[session.pk]))
    assert (refused.status_code, refused["Location"]) == (302, "/cms-admin/")
    assert evidence_pack_button(session, certificates_only, "/") == []
    assert EvidencePack.objects.count() == 1


def test_the_session_listing_offers_the_pack_to_staff_only(session, staff, karim):
    button = evidence_pack_button(session, staff, "/")
    assert [item.url for item in button] == [
        reverse("certification_evidence_request", args=[session.pk])
    ]
    assert evidence_pack_button(session, karim, "/") == []
    assert evidence_pack_button(make_user("x@example.org", "X"), staff, "/") == []


def test_a_storage_error_marks_the_pack_failed_and_is_raised_for_the_tasks_retries(
    session, monkeypatch
):
    pack = EvidencePack.objects.create(session=session)
    monkeypatch.setattr(
        evidence, "plan", lambda session: [evidence.Entry("a.txt", lambda: b"a", "a")]
    )

    def full_disk(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(evidence.default_storage, "save", full_disk)
    with pytest.raises(OSError):
        evidence.build_pack(pack.pk)
    pack.refresh_from_db()
    assert pack.status == EvidencePack.Status.FAILED
    assert "No space left on device" in pack.error
    assert pack.claimed_at is None


def test_the_progress_page_polls_with_the_shared_script_file_until_the_pack_is_ready(
    session, staff, client
):
    pack = EvidencePack.objects.create(session=session, total=8, done=3)
    client.force_login(staff)
    response = client.get(reverse("certification:evidence_progress", args=[pack.pk]))
    html = response.content.decode()
    assert 'data-testid="evidence-progress"' in html
    assert reverse("certification:evidence_progress_json", args=[pack.pk]) in html
    assert "task-progress.js" in html and "<script>" not in html
    assert 'value="3"' in html and 'max="8"' in html
    assert 'data-testid="evidence-download"' not in html


def test_the_sessions_snippet_listing_links_each_session_to_its_pack(session, staff, client):
    client.force_login(staff)
    listing = client.get(reverse("wagtailsnippets_learners_trainingsession:list"))
    assert listing.status_code == 200
    assert reverse("certification_evidence_request", args=[session.pk]) in listing.text


def test_a_beat_pass_looks_for_packs_left_behind(db, settings):
    from config.celery import app

    tasks_run = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "certification.tasks.resume_evidence_packs" in tasks_run
    assert "certification.tasks.resume_evidence_packs" in app.tasks
    assert tasks.resume_evidence_packs.delay().get() == 0


def test_a_blended_session_s_pack_holds_each_learner_s_online_activity(
    session, staff, camille, django_capture_on_commit_callbacks
):
    session.format = Format.BLENDED
    session.save(update_fields=["format"])
    start, _end = session_window(session)
    for minutes in (0, 20, 45):
        ActivityEvent.objects.create(
            learner=camille,
            kind=ActivityEvent.Kind.LESSON_DONE,
            at=start + datetime.timedelta(hours=14, minutes=minutes),
        )

    pack = build(session, staff, django_capture_on_commit_callbacks)

    archive = open_zip(pack)
    rows = {row["apprenant"]: row for row in csv_rows(archive, evidence.ACTIVITY_CSV)}
    assert set(rows) == {"Camille Martin", "Dominique Petit", "Sophie Lefèvre"}
    assert (
        rows["Camille Martin"]["temps_passe_minutes"],
        rows["Camille Martin"]["lecons_terminees"],
    ) == ("45", "3")
    assert rows["Dominique Petit"]["temps_passe_minutes"] == "0"
    assert evidence.ACTIVITY_CSV in archive.read(evidence.README).decode()


def test_an_on_site_session_s_pack_has_no_online_activity_file(built):
    assert evidence.ACTIVITY_CSV not in open_zip(built).namelist()


def test_erasing_a_learner_rebuilds_the_pack_that_named_her(
    built, camille, django_capture_on_commit_callbacks
):
    from learners import services as learners

    name = built.file.name
    assert "Camille Martin" in open_zip(built).read(evidence.ATTENDANCE_CSV).decode("utf-8-sig")

    with django_capture_on_commit_callbacks(execute=True):
        learners.erase_account(camille)
    built.refresh_from_db()

    assert built.status == "done"
    assert not evidence.default_storage.exists(name)
    archive = open_zip(built)
    # What the platform holds of her goes; the certificates she was issued keep her name
    # for their legal retention period (docs/decisions.md), and so do their PDFs here.
    for entry in (evidence.ATTENDANCE_CSV, evidence.RESULTS_CSV, evidence.SATISFACTION_CSV):
        assert "Camille" not in archive.read(entry).decode("utf-8-sig"), entry
    assert "Je m'en sers" not in archive.read(evidence.SATISFACTION_CSV).decode("utf-8-sig")


def test_a_pack_of_a_session_the_erased_person_never_had_a_seat_in_is_left_as_it_is(
    built, lea, django_capture_on_commit_callbacks
):
    from learners import services as learners

    finished_at = built.finished_at
    with django_capture_on_commit_callbacks(execute=True):
        learners.erase_account(lea)
    built.refresh_from_db()

    assert (built.status, built.finished_at) == ("done", finished_at)


def test_erasing_a_trainer_rebuilds_the_packs_naming_her_as_who_confirmed_attendance(
    built, karim, django_capture_on_commit_callbacks
):
    from learners import services as learners

    assert "Karim Benali" in open_zip(built).read(evidence.ATTENDANCE_CSV).decode("utf-8-sig")

    with django_capture_on_commit_callbacks(execute=True):
        learners.erase_account(karim)
    built.refresh_from_db()

    assert built.status == "done"
    assert "Karim" not in open_zip(built).read(evidence.ATTENDANCE_CSV).decode("utf-8-sig")


def test_erasing_a_trainer_of_the_session_or_who_asked_for_its_pack_rebuilds_it(
    session, lea, staff, django_capture_on_commit_callbacks
):
    from learners import services as learners

    session.trainers.add(lea)
    requester = make_user("demandeuse@example.org", "Irène Demandeuse", is_staff=True)
    pack = build(session, requester, django_capture_on_commit_callbacks)
    readme = open_zip(pack).read(evidence.README).decode()
    assert "Léa Rousseau" in readme and "Irène Demandeuse" in readme

    for person, name in ((lea, "Léa Rousseau"), (requester, "Irène Demandeuse")):
        with django_capture_on_commit_callbacks(execute=True):
            learners.erase_account(person)
        pack.refresh_from_db()
        assert pack.status == "done"
        assert name not in open_zip(pack).read(evidence.README).decode()


def test_a_build_that_lost_its_claim_meanwhile_leaves_no_file_behind(built, monkeypatch):
    folder = Path(built.file.path).parent
    before = sorted(p.name for p in folder.iterdir())
    evidence.rebuild_pack(built)  # pending again; its build is run by hand below
    write = evidence._write_zip

    def reset_midway(pack, stream, progress):
        write(pack, stream, progress)
        # What an erasure does to a pack while a worker builds it.
        EvidencePack.objects.filter(pk=pack.pk).update(
            status=EvidencePack.Status.PENDING, claimed_at=None
        )

    monkeypatch.setattr(evidence, "_write_zip", reset_midway)

    assert evidence.build_pack(built.pk) == evidence.BuildOutcome.BUSY
    assert sorted(p.name for p in folder.iterdir()) == before


def test_a_certificate_past_its_retention_leaves_the_pack_that_held_it(
    built, camille, django_capture_on_commit_callbacks
):
    from certification import retention
    from learners import services as learners

    with django_capture_on_commit_callbacks(execute=True):
        learners.erase_account(camille)
    built.refresh_from_db()
    assert "02-certificats-de-realisation/camille-martin.pdf" in open_zip(built).namelist()
    name = built.file.name
    later = timezone.now() + datetime.timedelta(days=3 * 366 + 1)

    with django_capture_on_commit_callbacks(execute=True):
        assert retention.remove_expired_holders(later) == 2
    built.refresh_from_db()

    assert built.status == "done"
    assert not evidence.default_storage.exists(name)
    archive = open_zip(built)
    certificates = [entry for entry in archive.namelist() if entry.endswith(".pdf")]
    assert not any("camille" in entry or "titulaire" in entry for entry in certificates)
    assert "02-certificats-de-realisation/dominique-petit.pdf" in certificates
    assert "Camille" not in archive.read(evidence.README).decode()


def test_asking_again_for_a_pack_already_waiting_for_its_build_queues_nothing_more(built):
    with transaction.atomic():
        assert evidence.rebuild_without_erased([built.session_id]) == 1
        # The build queued has not started: it will read the rows as they are then.
        assert evidence.rebuild_without_erased([built.session_id]) == 0
