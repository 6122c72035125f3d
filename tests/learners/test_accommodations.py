"""Disability referent on every track page, accommodation requests and their answers."""

import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from learners import accommodations, assessments, exports, services
from learners.models import AccommodationRequest, Enrolment
from tests.conftest import make_user
from tests.learners.quiz_helpers import set_quiz, single

NEED = "Des sous-titres pour les vidéos et un tiers-temps pour les quiz."


@pytest.fixture
def mails(eager_tasks, django_capture_on_commit_callbacks):
    """Run what follows each commit (the mails) within the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def enrol_url(track):
    return reverse("learners:enrol", args=[track.pk])


def page_url(track):
    return reverse("learners:accommodation", args=[track.pk])


# --- The referent on every track page ------------------------------------------------------


def test_a_track_page_names_its_own_disability_referent(client, journey):
    track = journey.track
    track.disability_referent = "Nadia Referente"
    track.disability_contact = "nadia@tiers-lieu.example"
    track.accessibility = "<p>Salle de plain-pied.</p>"
    track.save()
    html = client.get(track.url).text
    assert 'data-testid="referent-name">Nadia Referente<' in html
    assert 'href="mailto:nadia@tiers-lieu.example"' in html
    assert "Salle de plain-pied." in html


def test_a_track_without_a_referent_names_the_platforms(client, journey, settings):
    settings.DISABILITY_REFERENT_NAME = "Référent handicap de la plateforme"
    settings.DISABILITY_REFERENT_EMAIL = "handicap@campus.example"
    html = client.get(journey.track.url).text
    assert 'data-testid="referent-name">Référent handicap de la plateforme<' in html
    assert 'href="mailto:handicap@campus.example"' in html


def test_the_platforms_referent_has_an_address_by_default():
    from django.conf import settings

    assert settings.DISABILITY_REFERENT_NAME
    assert settings.DISABILITY_REFERENT_EMAIL.startswith("handicap@")


def test_the_enrolment_form_offers_to_ask_for_an_accommodation(client, journey, camille):
    client.force_login(camille)
    html = client.get(journey.track.url).text
    assert 'data-testid="accommodation-disclosure"' in html
    assert 'name="need"' in html


# --- Asking from the enrolment form --------------------------------------------------------


def test_enrolling_with_a_need_records_the_request_and_sends_two_mails(
    client, journey, camille, mails, settings
):
    settings.DISABILITY_REFERENT_EMAIL = "handicap@campus.example"
    client.force_login(camille)
    with mails():
        response = client.post(enrol_url(journey.track), {"need": f"  {NEED}\n"})
    assert response.status_code == 302
    assert Enrolment.objects.active().filter(learner=camille, track=journey.track).exists()
    request = AccommodationRequest.objects.get(learner=camille)
    assert (request.track, request.need, request.status) == (journey.track, NEED, "new")
    assert sorted(m.to[0] for m in mail.outbox) == [
        "camille@example.org",
        "handicap@campus.example",
    ]
    # Health data stays in the platform: the mails say who and where, not what.
    assert all(NEED not in m.body for m in mail.outbox)
    referent_mail = next(m for m in mail.outbox if m.to == ["handicap@campus.example"])
    assert reverse("learners_accommodation:edit", args=[request.pk]) in referent_mail.body


def test_the_request_goes_to_the_tracks_own_referent_when_it_has_one(
    client, journey, camille, mails
):
    journey.track.disability_contact = "nadia@tiers-lieu.example"
    journey.track.save()
    client.force_login(camille)
    with mails():
        client.post(enrol_url(journey.track), {"need": NEED})
    assert "nadia@tiers-lieu.example" in [m.to[0] for m in mail.outbox]


def test_enrolling_without_a_need_records_no_request_and_sends_no_mail(
    client, journey, camille, mails
):
    client.force_login(camille)
    with mails():
        client.post(enrol_url(journey.track), {"need": "   "})
    assert Enrolment.objects.active().filter(learner=camille, track=journey.track).exists()
    assert not AccommodationRequest.objects.exists()
    assert mail.outbox == []


def test_an_over_long_need_refuses_the_enrolment_and_keeps_the_text(
    client, journey, camille, mails
):
    too_long = "Besoin détaillé. " * 150  # over 2000 characters
    client.force_login(camille)
    with mails():
        response = client.post(enrol_url(journey.track), {"need": too_long})
    assert response.status_code == 200
    assert "need" in response.context["form"].errors
    assert too_long.strip() in response.content.decode()
    assert 'id="error-summary"' in response.content.decode()
    assert not Enrolment.objects.filter(learner=camille).exists()
    assert not AccommodationRequest.objects.exists()
    assert mail.outbox == []


def test_the_corrected_need_then_enrols_and_records_it(client, journey, camille, mails):
    client.force_login(camille)
    client.post(enrol_url(journey.track), {"need": "x" * 2001})
    with mails():
        client.post(enrol_url(journey.track), {"need": NEED})
    assert Enrolment.objects.active().filter(learner=camille).count() == 1
    assert AccommodationRequest.objects.get().need == NEED


def test_a_module_enrolment_ignores_the_field(client, journey, camille):
    client.force_login(camille)
    client.post(reverse("learners:enrol", args=[journey.basics.pk]), {"need": NEED})
    assert Enrolment.objects.filter(learner=camille, module=journey.basics).exists()
    assert not AccommodationRequest.objects.exists()


# --- Asking later, and reading the answers -------------------------------------------------


def test_a_learner_asks_later_from_the_accommodation_page(client, journey, camille, mails):
    client.force_login(camille)
    with mails():
        response = client.post(page_url(journey.track), {"need": NEED})
    assert response.status_code == 302
    assert AccommodationRequest.objects.get(learner=camille).need == NEED
    assert len(mail.outbox) == 2
    assert not Enrolment.objects.filter(learner=camille).exists()  # asking is not enrolling


def test_an_empty_request_is_refused_with_an_error_on_the_field(client, journey, camille):
    client.force_login(camille)
    response = client.post(page_url(journey.track), {"need": "  "})
    assert response.status_code == 200
    assert "need" in response.context["form"].errors
    assert not AccommodationRequest.objects.exists()


def test_the_page_shows_a_learner_her_own_requests_and_answers_only(
    client, journey, camille, dominique
):
    AccommodationRequest.objects.create(
        learner=camille,
        track=journey.track,
        need=NEED,
        status=AccommodationRequest.Status.ANSWERED,
        answer="Les vidéos sont sous-titrées depuis lundi.",
        answered_at=timezone.now(),
    )
    AccommodationRequest.objects.create(
        learner=dominique, track=journey.track, need="Besoin de Dominique."
    )
    client.force_login(camille)
    html = client.get(page_url(journey.track)).text
    assert NEED in html
    assert "Les vidéos sont sous-titrées depuis lundi." in html
    assert "Besoin de Dominique." not in html


def test_the_service_strips_and_bounds_the_need(journey, camille):
    request = accommodations.request_accommodation(camille, journey.track, f"  {NEED}  ")
    assert request.need == NEED
    with pytest.raises(ValidationError):
        accommodations.request_accommodation(camille, journey.track, "x" * 2001)
    with pytest.raises(ValidationError):
        accommodations.request_accommodation(camille, journey.track, " \n ")
    assert AccommodationRequest.objects.count() == 1


# --- Staff answer in the admin (indicator 26) -----------------------------------------------


@pytest.fixture
def requests_(journey, camille, dominique):
    answered = AccommodationRequest.objects.create(
        learner=dominique,
        track=journey.track,
        need="Déjà traité.",
        status=AccommodationRequest.Status.ANSWERED,
        answer="C'est prévu.",
        answered_at=timezone.now(),
    )
    waiting = AccommodationRequest.objects.create(learner=camille, track=journey.track, need=NEED)
    return waiting, answered


def test_staff_see_the_waiting_requests_first(client, staff, requests_):
    waiting, answered = requests_
    assert list(accommodations.open_first(AccommodationRequest.objects.all())) == [
        waiting,
        answered,
    ]
    client.force_login(staff)
    response = client.get(reverse("learners_accommodation:index"))
    assert response.status_code == 200
    html = response.text
    assert html.index("Camille Martin") < html.index("Dominique Petit")
    assert NEED not in html  # the need shows on the request's own page only


def test_staff_filter_the_requests_by_status(client, staff, requests_):
    client.force_login(staff)
    response = client.get(reverse("learners_accommodation:index"), {"status": "answered"})
    assert "Dominique Petit" in response.text
    assert "Camille Martin" not in response.text


def test_staff_answer_a_request_and_the_learner_is_mailed(client, staff, requests_, mails):
    waiting, _ = requests_
    client.force_login(staff)
    url = reverse("learners_accommodation:edit", args=[waiting.pk])
    assert NEED in client.get(url).text
    with mails():
        response = client.post(
            url,
            {
                "status": "answered",
                "answer": "Les vidéos seront sous-titrées.",
                "extra_time_percent": "0",
            },
        )
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == AccommodationRequest.Status.ANSWERED
    assert (waiting.handled_by, waiting.answered_at is not None) == (staff, True)
    (sent,) = mail.outbox
    assert sent.to == ["camille@example.org"]
    assert "Les vidéos seront sous-titrées." in sent.body
    # The admin's history keeps its label for good: health data, so without the name.
    from wagtail.models import ModelLogEntry

    (logged,) = ModelLogEntry.objects.filter(object_id=str(waiting.pk))
    assert logged.label == f"Demande {waiting.pk} · {waiting.track}"


def test_the_sessions_trainers_read_what_the_referent_wrote_for_them_and_never_the_need(
    client, staff, karim, lea, journey, camille, dominique, requests_, mails
):
    from tests.learners.attendance_helpers import add_half_day, make_session

    waiting, _ = requests_
    today = timezone.localdate()  # the trainers may still record the session's attendance
    session = make_session(
        journey.track, trainers=[karim], learners=[camille, dominique], starts_on=today
    )
    add_half_day(session, today)
    other = make_session(journey.other_track, trainers=[lea], learners=[camille], starts_on=today)
    add_half_day(other, today)
    client.force_login(staff)
    answer = {
        "status": "answered",
        "answer": "Les vidéos seront sous-titrées.",
        "extra_time_percent": "33",
        "note_for_trainers": "Prévoir une place près de la porte.",
    }
    url = reverse("learners_accommodation:edit", args=[waiting.pk])
    refused = client.post(url, answer)  # her agreement is asked first
    assert refused.status_code == 200
    assert "avec son accord" in refused.text
    with mails():
        client.post(url, {**answer, "note_agreed": "on"})
    waiting.refresh_from_db()
    assert waiting.note_for_trainers == "Prévoir une place près de la porte."
    (sent,) = mail.outbox  # she is told what her trainers will read
    assert "Prévoir une place près de la porte." in sent.body

    client.force_login(karim)
    grid = client.get(reverse("learners:session_attendance", args=[session.pk])).text
    rows: dict[str, str] = {}  # the attendance grid's rows come before the activity's
    for learner, row in re.findall(r'<tr data-learner="(\d+)">(.*?)</tr>', grid, re.S):
        rows.setdefault(learner, row)
    header, cells = rows[str(camille.pk)].split("</th>", 1)
    # In a column of its own: a row header's words are read again with every cell.
    assert "Prévoir une place près de la porte." in cells and "Prévoir" not in header
    assert '<th scope="col">À prévoir</th>' in grid
    assert 'data-testid="accommodation-note"' not in rows[str(dominique.pk)]  # her own row only
    assert NEED not in grid
    client.force_login(lea)  # a session of another track: not hers to know
    grid = client.get(reverse("learners:session_attendance", args=[other.pk])).text
    assert f'<tr data-learner="{camille.pk}">' in grid
    assert "accommodation-note" not in grid

    client.force_login(camille)
    assert "Prévoir une place près de la porte." in client.get(page_url(journey.track)).text
    exported = exports.accommodation_requests(camille)
    assert exported[0]["note_for_trainers"] == "Prévoir une place près de la porte."


def test_a_note_for_trainers_shows_only_answered_agreed_and_while_attendance_is_open(
    client, karim, journey, camille, requests_
):
    from learners import attendance
    from tests.learners.attendance_helpers import add_half_day, make_session

    waiting, _ = requests_
    AccommodationRequest.objects.filter(pk=waiting.pk).update(
        status=AccommodationRequest.Status.IN_PROGRESS,
        note_for_trainers="Brouillon.",
        note_agreed=True,
    )
    today = timezone.localdate()
    session = make_session(journey.track, trainers=[karim], learners=[camille], starts_on=today)
    add_half_day(session, today)
    client.force_login(karim)
    url = reverse("learners:session_attendance", args=[session.pk])

    def shown() -> bool:
        page = client.get(url).text
        assert f'<tr data-learner="{camille.pk}">' in page
        return "Brouillon." in page

    assert not shown()  # not answered yet
    AccommodationRequest.objects.filter(pk=waiting.pk).update(
        status=AccommodationRequest.Status.ANSWERED, answered_at=timezone.now(), note_agreed=False
    )
    assert not shown()  # answered, but she did not agree
    AccommodationRequest.objects.filter(pk=waiting.pk).update(note_agreed=True)
    assert shown()
    # Attendance closed for its trainers: the note has served its purpose.
    past = today - timedelta(days=attendance.AMEND_DAYS + 1)
    session.half_days.update(date=past)
    type(session).objects.filter(pk=session.pk).update(starts_on=past, ends_on=past)
    assert not shown()


def test_marking_a_request_in_progress_mails_nobody(client, staff, requests_, mails):
    waiting, _ = requests_
    client.force_login(staff)
    with mails():
        client.post(
            reverse("learners_accommodation:edit", args=[waiting.pk]),
            {"status": "in_progress", "answer": "", "extra_time_percent": "0"},
        )
    waiting.refresh_from_db()
    assert (waiting.status, waiting.handled_by, waiting.answered_at) == ("in_progress", staff, None)
    assert mail.outbox == []


def test_an_answer_cannot_be_empty(client, staff, requests_):
    waiting, _ = requests_
    client.force_login(staff)
    response = client.post(
        reverse("learners_accommodation:edit", args=[waiting.pk]),
        {"status": "answered", "answer": "  ", "extra_time_percent": "0"},
    )
    assert response.status_code == 200
    assert "answer" in response.context["form"].errors
    waiting.refresh_from_db()
    assert waiting.status == AccommodationRequest.Status.NEW


@pytest.mark.parametrize("persona", ["camille", "karim"])
def test_nobody_but_staff_answers_a_request(client, requests_, persona, request):
    waiting, _ = requests_
    client.force_login(request.getfixturevalue(persona))
    url = reverse("learners_accommodation:edit", args=[waiting.pk])
    assert client.get(url).status_code == 302
    client.post(url, {"status": "answered", "answer": "Forgé.", "extra_time_percent": "0"})
    waiting.refresh_from_db()
    assert (waiting.status, waiting.answer) == ("new", "")


# --- RGPD ----------------------------------------------------------------------------------


def test_the_personal_data_export_holds_ones_own_requests(journey, camille, dominique):
    AccommodationRequest.objects.create(learner=camille, track=journey.track, need=NEED)
    AccommodationRequest.objects.create(learner=dominique, track=journey.track, need="Autre.")
    archive = zipfile.ZipFile(exports.personal_data_archive(camille))
    data = json.loads(archive.read("data.json"))
    assert [r["need"] for r in data["accommodation_requests"]] == [NEED]
    assert NEED in archive.read("accommodation_requests.csv").decode()


def test_erasing_an_account_removes_its_requests(journey, camille, dominique):
    AccommodationRequest.objects.create(learner=camille, track=journey.track, need=NEED)
    AccommodationRequest.objects.create(learner=dominique, track=journey.track, need="Autre.")
    services.erase_account(camille)
    assert list(AccommodationRequest.objects.values_list("learner", flat=True)) == [dominique.pk]


def test_no_mail_goes_to_a_learner_erased_since_the_answer(journey):
    learner = make_user("partie@example.org", "Partie")
    request = AccommodationRequest.objects.create(learner=learner, track=journey.track, need=NEED)
    learner.erased_at = timezone.now()
    learner.save()
    assert accommodations.send(request.pk, accommodations.MAIL_ANSWER) is False
    assert mail.outbox == []


# --- One open request per track, a few per hour ----------------------------------------------


def _answered(learner, track, **extra):
    return AccommodationRequest.objects.create(
        learner=learner,
        track=track,
        need="Déjà traité.",
        status=AccommodationRequest.Status.ANSWERED,
        answer="C'est prévu.",
        answered_at=timezone.now(),
        **extra,
    )


def test_a_second_request_waits_for_the_first_answer_and_keeps_the_text(
    client, journey, camille, mails
):
    client.force_login(camille)
    with mails():
        client.post(page_url(journey.track), {"need": NEED})
        response = client.post(page_url(journey.track), {"need": "Un autre besoin, précis."})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "Un autre besoin, précis." in response.content.decode()
    assert 'id="error-summary"' in response.content.decode()
    assert AccommodationRequest.objects.filter(learner=camille).count() == 1
    assert len(mail.outbox) == 2  # the first request's mails only


def test_a_new_request_is_accepted_once_the_open_one_is_answered(journey, camille):
    first = accommodations.request_accommodation(camille, journey.track, NEED)
    with pytest.raises(accommodations.RequestRefused):
        accommodations.request_accommodation(camille, journey.track, "Autre besoin.")
    first.status, first.answer, first.answered_at = "answered", "Prévu.", timezone.now()
    first.save()
    accommodations.request_accommodation(camille, journey.track, "Autre besoin.")
    assert AccommodationRequest.objects.filter(learner=camille).count() == 2


def test_an_open_request_blocks_neither_another_track_nor_another_learner(
    journey, camille, dominique
):
    accommodations.request_accommodation(camille, journey.track, NEED)
    accommodations.request_accommodation(camille, journey.other_track, NEED)
    accommodations.request_accommodation(dominique, journey.track, NEED)
    assert AccommodationRequest.objects.open().count() == 3


def test_enrolling_with_a_need_while_a_request_waits_enrols_nothing_and_keeps_the_text(
    client, journey, camille, mails
):
    AccommodationRequest.objects.create(learner=camille, track=journey.track, need=NEED)
    client.force_login(camille)
    with mails():
        response = client.post(enrol_url(journey.track), {"need": "Besoin ajouté."})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "Besoin ajouté." in response.content.decode()
    assert not Enrolment.objects.filter(learner=camille).exists()
    assert AccommodationRequest.objects.filter(learner=camille).count() == 1
    assert mail.outbox == []


def test_the_enrolment_form_sent_twice_by_a_double_click_is_answered_as_the_first(
    client, journey, camille, mails
):
    client.force_login(camille)
    with mails():
        client.post(enrol_url(journey.track), {"need": NEED}, follow=True)
        again = client.post(enrol_url(journey.track), {"need": NEED}, follow=True)

    assert again.redirect_chain and again.status_code == 200
    assert [m.level_tag for m in again.context["messages"]] == ["success", "success"]
    assert AccommodationRequest.objects.filter(learner=camille).count() == 1
    assert len(mail.outbox) == 2  # the referent's and her confirmation, once


def test_requests_are_capped_per_learner_per_hour(client, journey, camille, dominique, mails):
    for _ in range(accommodations.MAX_REQUESTS_PER_HOUR - 1):
        _answered(camille, journey.other_track)
    _answered(camille, journey.other_track, created_at=timezone.now() - timedelta(hours=2))
    accommodations.request_accommodation(camille, journey.track, NEED)  # reaches the cap
    AccommodationRequest.objects.filter(learner=camille).update(
        status="answered", answered_at=timezone.now()
    )

    client.force_login(camille)
    with mails():
        response = client.post(page_url(journey.other_track), {"need": "Encore un besoin."})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "Encore un besoin." in response.content.decode()
    assert AccommodationRequest.objects.filter(learner=camille).count() == (
        accommodations.MAX_REQUESTS_PER_HOUR + 1
    )
    assert mail.outbox == []
    accommodations.request_accommodation(dominique, journey.track, NEED)  # others are not held


def test_requests_older_than_an_hour_no_longer_count(journey, camille):
    an_hour_ago = timezone.now() - timedelta(minutes=61)
    for _ in range(accommodations.MAX_REQUESTS_PER_HOUR):
        _answered(camille, journey.other_track, created_at=an_hour_ago)
    accommodations.request_accommodation(camille, journey.track, NEED)
    assert AccommodationRequest.objects.filter(learner=camille).count() == (
        accommodations.MAX_REQUESTS_PER_HOUR + 1
    )


# --- Extra time on timed quizzes (« tiers-temps ») ---------------------------------------


@pytest.fixture
def timed_quiz(journey, camille):
    """Camille follows the track; its basics module has a 30-minute quiz."""
    services.enrol(camille, journey.track)
    return set_quiz(journey.basics, [single()], time_limit_minutes=30)


def test_staff_grant_extra_time_and_camilles_timed_quiz_gives_it_to_her(
    client, staff, journey, camille, timed_quiz, mails
):
    waiting = AccommodationRequest.objects.create(learner=camille, track=journey.track, need=NEED)
    client.force_login(staff)
    with mails():
        client.post(
            reverse("learners_accommodation:edit", args=[waiting.pk]),
            {"status": "answered", "answer": "Tiers-temps accordé.", "extra_time_percent": "33"},
        )
    (sent,) = mail.outbox
    assert "Temps supplémentaire sur les quiz chronométrés : 33 %." in sent.body

    attempt = assessments.start_attempt(camille, timed_quiz)

    assert attempt.deadline - attempt.started_at == timedelta(minutes=40)  # 39.9, rounded up
    client.force_login(camille)
    rules = client.get(reverse("learners:quiz_start", args=[timed_quiz.pk])).text
    assert "40 minutes" in rules and "temps supplémentaire qui vous a été accordé" in rules


def test_extra_time_counts_only_once_answered_and_only_on_its_track(
    journey, camille, dominique, timed_quiz
):
    AccommodationRequest.objects.create(
        learner=camille, track=journey.track, need=NEED, extra_time_percent=50
    )
    _answered(camille, journey.other_track, extra_time_percent=100)
    _answered(dominique, journey.track, extra_time_percent=100)

    attempt = assessments.start_attempt(camille, timed_quiz)

    assert attempt.deadline - attempt.started_at == timedelta(minutes=30)


def test_more_than_twice_the_time_is_refused_with_a_french_message(client, staff, requests_):
    waiting, _ = requests_
    client.force_login(staff)

    response = client.post(
        reverse("learners_accommodation:edit", args=[waiting.pk]),
        {"status": "answered", "answer": "Tout le temps voulu.", "extra_time_percent": "500"},
    )

    assert response.status_code == 200
    assert "inférieure ou égale à 200" in response.text
    waiting.refresh_from_db()
    assert (waiting.status, waiting.extra_time_percent) == ("new", 0)


def test_extra_time_counts_for_a_learner_enrolled_in_the_module_alone(journey, dominique):
    services.enrol(dominique, journey.basics)  # the module, not its track
    module = set_quiz(journey.basics, [single()], time_limit_minutes=30)
    _answered(dominique, journey.track, extra_time_percent=50)

    attempt = assessments.start_attempt(dominique, module)

    assert attempt.deadline - attempt.started_at == timedelta(minutes=45)
