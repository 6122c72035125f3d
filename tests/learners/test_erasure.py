"""Erasing an account leaves no personal data and no capability behind.

What stays is what statistics and Qualiopi evidence need, anonymised: scores,
grades, levels, ratings. What the person wrote goes (docs/decisions.md).
"""

import datetime

import pytest
from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from courses.models import Level
from courses.models.pages import Format
from learners import assessments, services, sessions
from learners.account_sessions import AccountSession
from learners.attendance import seat_for_token
from learners.models import (
    AttemptAnswer,
    ColdSurvey,
    Feedback,
    Invitation,
    InvitationBatch,
    Satisfaction,
    Seat,
    Submission,
    TrainingSession,
    UndeliveredMail,
    User,
)
from tests.conftest import signed_in_just_now
from tests.learners.attendance_helpers import add_half_day_open_all_day
from tests.learners.quiz_helpers import right_answers, set_quiz

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
OPEN = {
    "type": "open",
    "competence": "B1.1",
    "level": "appliquer",
    "text": "Décrivez votre lieu.",
    "explanation": "Attendus.",
}


def erase(user, django_capture_on_commit_callbacks) -> User:
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_account(user)
    return User.objects.get(pk=user.pk)


def session_in(track, *, days: int, capacity: int = 1) -> TrainingSession:
    starts_on = timezone.localdate() + datetime.timedelta(days=days)
    return TrainingSession.objects.create(
        track=track,
        format=Format.ONLINE,
        starts_on=starts_on,
        ends_on=starts_on,
        capacity=capacity,
    )


# --- Places and links -----------------------------------------------------------------


def test_erasing_frees_a_future_place_for_the_next_person_waiting(
    journey, camille, dominique, eager_tasks, django_capture_on_commit_callbacks, mailoutbox
):
    session = session_in(journey.track, days=10)
    taken = sessions.take_seat(camille, session)
    waiting = sessions.take_seat(dominique, session)
    assert (taken.status, waiting.status) == ("confirmed", "waiting")

    erase(camille, django_capture_on_commit_callbacks)

    taken.refresh_from_db()
    waiting.refresh_from_db()
    assert taken.status == Seat.Status.CANCELLED and taken.cancelled_at is not None
    assert waiting.status == Seat.Status.CONFIRMED
    assert any(mail.to == [dominique.email] for mail in mailoutbox)
    # Nothing is mailed to the erased account, whose address is gone.
    assert [mail.to for mail in mailoutbox] == [[dominique.email]]


def test_an_erased_learner_leaves_the_waiting_list_and_is_never_promoted(
    journey, camille, dominique, django_capture_on_commit_callbacks
):
    session = session_in(journey.track, days=10)
    sessions.take_seat(dominique, session)
    waiting = sessions.take_seat(camille, session)

    erase(camille, django_capture_on_commit_callbacks)
    sessions.cancel_seat(Seat.objects.get(session=session, learner=dominique))

    waiting.refresh_from_db()
    assert waiting.status == Seat.Status.CANCELLED
    assert not session.seats.confirmed().exists()


def test_a_past_seat_stays_as_it_was_for_the_attendance_record(
    journey, camille, django_capture_on_commit_callbacks
):
    session = session_in(journey.track, days=-5, capacity=3)
    seat = Seat.objects.create(
        session=session, learner=camille, status=Seat.Status.CONFIRMED, confirmed_at=timezone.now()
    )

    erase(camille, django_capture_on_commit_callbacks)

    seat.refresh_from_db()
    assert seat.status == Seat.Status.CONFIRMED


def test_a_seat_in_a_session_under_way_stays_for_its_signed_half_days(
    journey, camille, dominique, django_capture_on_commit_callbacks
):
    starts_on = timezone.localdate() - datetime.timedelta(days=1)
    session = TrainingSession.objects.create(
        track=journey.track,
        format=Format.ONLINE,
        starts_on=starts_on,
        ends_on=starts_on + datetime.timedelta(days=2),
        capacity=1,
    )
    seat = Seat.objects.create(
        session=session, learner=camille, status=Seat.Status.CONFIRMED, confirmed_at=timezone.now()
    )
    waiting = Seat.objects.create(session=session, learner=dominique, status=Seat.Status.WAITING)

    erase(camille, django_capture_on_commit_callbacks)

    seat.refresh_from_db()
    waiting.refresh_from_db()
    assert seat.status == Seat.Status.CONFIRMED  # the attendance sheet still lists it
    assert waiting.status == Seat.Status.WAITING  # nobody promoted into a session half over


def test_the_attendance_link_of_an_erased_learner_leads_nowhere(
    client, journey, camille, django_capture_on_commit_callbacks
):
    session = session_in(journey.track, days=0, capacity=3)
    add_half_day_open_all_day(session, session.starts_on)
    seat = Seat.objects.create(
        session=session, learner=camille, status=Seat.Status.CONFIRMED, confirmed_at=timezone.now()
    )
    old_link = reverse("learners:attendance_link", args=[seat.attendance_token])
    assert client.get(old_link).status_code == 200

    erase(camille, django_capture_on_commit_callbacks)

    assert client.get(old_link).status_code == 404
    assert client.post(old_link).status_code == 404
    seat.refresh_from_db()
    assert reverse("learners:attendance_link", args=[seat.attendance_token]) != old_link
    with pytest.raises(Seat.DoesNotExist):
        seat_for_token(seat.attendance_token)


def test_the_attendance_link_of_a_deactivated_account_signs_nothing(journey, camille):
    session = session_in(journey.track, days=0, capacity=3)
    seat = Seat.objects.create(
        session=session, learner=camille, status=Seat.Status.CONFIRMED, confirmed_at=timezone.now()
    )
    User.objects.filter(pk=camille.pk).update(is_active=False)

    with pytest.raises(Seat.DoesNotExist):
        seat_for_token(seat.attendance_token)


def test_erasing_signs_the_account_out_of_every_other_browser(camille, dominique):
    phone, laptop = Client(), Client()
    phone.force_login(camille)
    laptop.force_login(camille)
    dominique_browser = Client()
    dominique_browser.force_login(dominique)
    assert AccountSession.objects.filter(account=camille).count() == 2

    laptop.post("/moi/donnees/supprimer/", {"password": "campus-test-password"})

    assert not AccountSession.objects.filter(account=camille).exists()
    assert phone.get("/moi/parcours/").status_code == 302
    assert AccountSession.objects.filter(account=dominique).count() == 1


# --- Invitations ----------------------------------------------------------------------


def test_invitations_keep_their_row_but_not_who_they_were_for(
    camille, helene, organisation, django_capture_on_commit_callbacks
):
    batch = InvitationBatch.objects.create(organisation=organisation, invited_by=helene, total=3)
    now = timezone.now()
    accepted = Invitation.objects.create(
        batch=batch,
        organisation=organisation,
        email="camille.ancienne@example.org",
        full_name="Camille Martin",
        job_title="Chargée de mission",
        sent_at=now,
        accepted_at=now,
        accepted_by=camille,
    )
    pending = Invitation.objects.create(
        batch=batch,
        organisation=organisation,
        email="Camille@Example.org",
        full_name="Camille M.",
        job_title="Médiatrice",
        sent_at=now,
    )
    other = Invitation.objects.create(
        batch=batch, organisation=organisation, email="anne@example.org", full_name="Anne Durand"
    )
    old_token = pending.token

    erase(camille, django_capture_on_commit_callbacks)

    assert Invitation.objects.filter(batch=batch).count() == 3
    for invitation in (accepted, pending):
        invitation.refresh_from_db()
        assert invitation.email.endswith("@erased.invalid")
        assert "camille" not in invitation.email.lower()
        assert invitation.full_name == invitation.job_title == ""
    assert accepted.accepted_at is not None
    assert pending.token != old_token
    assert not Invitation.objects.filter(token=old_token).exists()
    # No longer waiting for the manager, nor mailed if it was still queued.
    assert pending.withdrawn_at is not None and accepted.withdrawn_at is None
    assert list(Invitation.objects.filter(batch=batch).pending()) == [other]
    other.refresh_from_db()
    assert (other.email, other.full_name) == ("anne@example.org", "Anne Durand")


def assert_anne_s_invitation_survives_erasing(account, helene, organisation, capture) -> None:
    """Anne is invited at her address; erasing `account`, which holds it unverified,
    leaves her invitation as it was."""
    batch = InvitationBatch.objects.create(organisation=organisation, invited_by=helene, total=1)
    anne = Invitation.objects.create(
        batch=batch, organisation=organisation, email="anne@example.org", full_name="Anne Durand"
    )

    erase(account, capture)

    anne.refresh_from_db()
    assert (anne.email, anne.full_name) == ("anne@example.org", "Anne Durand")


def test_someone_else_s_address_added_unverified_keeps_its_invitation(
    camille, helene, organisation, django_capture_on_commit_callbacks
):
    # Anyone may add any address to their account, unverified (allauth does not tell
    # who owns it): erasing the account must not erase the owner's invitation.
    EmailAddress.objects.create(user=camille, email="anne@example.org", verified=False)

    assert_anne_s_invitation_survives_erasing(
        camille, helene, organisation, django_capture_on_commit_callbacks
    )


def test_an_account_signed_up_with_someone_else_s_address_and_never_confirmed_spares_hers(
    db, helene, organisation, django_capture_on_commit_callbacks
):
    # Someone signed up with Anne's address and never typed the code; the team erases it.
    squatter = User.objects.create_user(email="anne@example.org", full_name="Pas Anne")
    EmailAddress.objects.create(user=squatter, email="anne@example.org", verified=False)

    assert_anne_s_invitation_survives_erasing(
        squatter, helene, organisation, django_capture_on_commit_callbacks
    )


# --- What the person wrote ------------------------------------------------------------


@pytest.fixture
def graded(journey, camille, karim, submit, settings, tmp_path):
    """Camille answered Karim's open question with a PDF; Karim validated it."""
    settings.MEDIA_ROOT = tmp_path
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [OPEN])
    attempt = assessments.start_attempt(camille, module)
    qid = attempt.questions[0]["id"]
    answers = right_answers(attempt)
    answers[qid] = "Mon tiers-lieu, rue des Lilas, avec mes voisins Paul et Inès."
    upload = SimpleUploadedFile("CV Camille Martin.pdf", PDF, content_type="application/pdf")
    submit(attempt, answers, {qid: upload})
    submission = Submission.objects.get(learner=camille)
    level = Level.objects.get(framework=journey.framework, rank=3)
    assessments.grade_submission(
        karim, submission, validated=True, level=level, comment="Analyse précise."
    )
    submission.refresh_from_db()
    return submission


def test_work_awaiting_review_leaves_the_trainers_queue(
    journey, camille, karim, submit, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    services.enrol(camille, journey.track)
    attempt = assessments.start_attempt(camille, set_quiz(journey.basics, [OPEN]))
    submit(attempt, right_answers(attempt), {})
    assert Submission.objects.for_trainer(karim).pending().count() == 1

    erase(camille, django_capture_on_commit_callbacks)

    assert not Submission.objects.filter(learner=camille).exists()


def test_open_answers_and_uploaded_files_go_and_the_grade_stays(
    graded, camille, karim, django_capture_on_commit_callbacks
):
    storage, name = graded.file.storage, graded.file.name
    assert storage.exists(name)

    erase(camille, django_capture_on_commit_callbacks)

    submission = Submission.objects.get(pk=graded.pk)
    assert submission.text == "" and not submission.file and submission.file_name == ""
    assert not storage.exists(name)
    # The evidence of the assessment stays: who graded it, the level, their comment.
    assert (submission.status, submission.level_id, submission.graded_by) == (
        Submission.Status.VALIDATED,
        graded.level_id,
        karim,
    )
    assert submission.comment == "Analyse précise."
    (answer,) = AttemptAnswer.objects.filter(attempt__learner=camille)
    assert answer.answer is None
    assert answer.attempt.score is not None


def test_a_typed_short_answer_goes_and_its_score_stays(
    journey, camille, submit, django_capture_on_commit_callbacks
):
    services.enrol(camille, journey.track)
    module = set_quiz(
        journey.basics,
        [
            {
                "type": "short_answer",
                "competence": "B1.1",
                "level": "decouvrir",
                "text": "Où se trouve votre tiers-lieu ?",
                "accepted_answers": ["Die"],
            }
        ],
    )
    attempt = assessments.start_attempt(camille, module)
    (question,) = attempt.questions
    submit(attempt, {question["id"]: "Die"})

    erase(camille, django_capture_on_commit_callbacks)

    (answer,) = AttemptAnswer.objects.filter(attempt=attempt)
    assert (answer.answer, answer.score) == (None, 1)


def test_a_failed_erasure_keeps_the_uploaded_file(graded, camille, monkeypatch):
    storage, name = graded.file.storage, graded.file.name
    monkeypatch.setattr(User, "set_unusable_password", lambda self: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        services.erase_account(camille)

    assert storage.exists(name)
    assert Submission.objects.get(pk=graded.pk).text.startswith("Mon tiers-lieu")


def test_satisfaction_ratings_stay_and_their_comments_go(
    journey, camille, karim, django_capture_on_commit_callbacks
):
    Satisfaction.objects.create(
        learner=camille, module=journey.basics, rating=4, comment="Merci à Karim, ma voisine…"
    )
    survey = ColdSurvey.objects.create(
        learner=camille,
        track=journey.track,
        due_at=timezone.now(),
        answered_at=timezone.now(),
        rating=5,
        usefulness=4,
        applied=True,
        comment="Depuis, j'ai ouvert mon atelier à Die.",
    )
    unanswered = ColdSurvey.objects.create(
        learner=camille, track=journey.other_track, due_at=timezone.now()
    )
    old_link = reverse("learners:cold_survey", args=[unanswered.token])

    erase(camille, django_capture_on_commit_callbacks)

    satisfaction = Satisfaction.objects.get(learner=camille)
    assert (satisfaction.rating, satisfaction.comment) == (4, "")
    survey.refresh_from_db()
    assert (survey.rating, survey.usefulness, survey.applied, survey.comment) == (5, 4, True, "")
    unanswered.refresh_from_db()
    assert reverse("learners:cold_survey", args=[unanswered.token]) != old_link


def test_a_trainers_feedback_stays_without_their_name(
    journey, karim, django_capture_on_commit_callbacks
):
    feedback = Feedback.objects.create(
        track=journey.track,
        respondent=Feedback.Respondent.TRAINER,
        author=karim,
        author_name="Karim Benali",
        rating=4,
        strengths="Groupe investi.",
    )

    erase(karim, django_capture_on_commit_callbacks)

    feedback.refresh_from_db()
    assert (feedback.author_name, feedback.rating, feedback.strengths) == ("", 4, "Groupe investi.")


def test_the_erase_page_says_what_is_kept_and_what_goes(client, camille):
    client.force_login(camille)
    html = client.get("/moi/donnees/supprimer/").content.decode()
    assert 'data-testid="written-content-erased"' in html
    assert 'data-testid="sessions-cancelled"' in html
    # Pseudonymised, not anonymous, while certificates keep her name: it says so.
    assert "l'équipe de formation peut encore savoir" in html.replace("&#x27;", "'")


def test_the_address_to_type_is_read_with_the_field_that_asks_for_it(client, db):
    from bs4 import BeautifulSoup

    agent = User.objects.create_user(email="agent@mairie-test.fr", full_name="Agent Sans Mot")
    signed_in_just_now(client, agent)
    page = BeautifulSoup(client.get("/moi/donnees/supprimer/").content, "html.parser")

    field = page.select_one("input[name=confirmation]")
    described = " ".join(
        page.select_one(f"#{ref}").get_text(" ", strip=True)
        for ref in field["aria-describedby"].split()
    )
    assert "agent@mairie-test.fr" in described
    assert field["autocomplete"] == "email"


def test_the_profile_leads_to_my_data_as_the_privacy_page_says(client, camille):
    client.force_login(camille)
    profile = client.get(reverse("learners:profile")).text
    assert f'href="{reverse("learners:my_data")}" data-testid="my-data-link"' in profile


def test_mails_waiting_to_be_resent_to_the_person_are_dropped(
    camille, dominique, django_capture_on_commit_callbacks
):
    UndeliveredMail.objects.record(
        "learners.tasks.notify_seat", [1, "confirmed"], recipient=camille.email, error="SMTP"
    )
    UndeliveredMail.objects.record(
        "learners.tasks.notify_seat", [2, "confirmed"], recipient=dominique.email, error="SMTP"
    )

    erase(camille, django_capture_on_commit_callbacks)

    assert list(UndeliveredMail.objects.values_list("recipient", flat=True)) == [dominique.email]


def test_the_admin_s_history_of_mails_staff_deleted_no_longer_names_her_address(
    camille, dominique, staff, django_capture_on_commit_callbacks
):
    from wagtail.log_actions import log
    from wagtail.models import ModelLogEntry

    for person in (camille, dominique):
        UndeliveredMail.objects.record(
            "learners.tasks.notify_seat", [1, "confirmed"], recipient=person.email, error="SMTP"
        )
        mail = UndeliveredMail.objects.get(recipient=person.email)
        log(instance=mail, action="wagtail.delete", user=staff)
        mail.delete()

    erase(camille, django_capture_on_commit_callbacks)

    labels = " ".join(ModelLogEntry.objects.values_list("label", flat=True))
    assert camille.email not in labels and dominique.email in labels


def test_every_verified_address_leaves_the_login_logs_and_the_mails_waiting(
    camille, django_capture_on_commit_callbacks
):
    from axes.models import AccessLog

    EmailAddress.objects.create(user=camille, email="c.martin@mairie.example", verified=True)
    AccessLog.objects.create(username="C.Martin@mairie.example", ip_address="192.0.2.1")
    UndeliveredMail.objects.record(
        "learners.tasks.notify_seat",
        [1, "confirmed"],
        recipient="c.martin@mairie.example",
        error="SMTP",
    )

    erase(camille, django_capture_on_commit_callbacks)

    assert not AccessLog.objects.exists()
    assert not UndeliveredMail.objects.exists()


def test_the_mail_server_s_refusal_quoting_the_address_goes_with_it(
    camille, helene, organisation, django_capture_on_commit_callbacks
):
    batch = InvitationBatch.objects.create(organisation=organisation, invited_by=helene, total=1)
    refused = Invitation.objects.create(
        batch=batch,
        organisation=organisation,
        email=camille.email,
        undelivered_at=timezone.now(),
        undelivered_reason=f"550 5.1.1 <{camille.email}>: Recipient address rejected",
    )

    erase(camille, django_capture_on_commit_callbacks)

    refused.refresh_from_db()
    assert refused.undelivered_reason == ""


def test_a_team_member_s_photo_is_deleted_with_the_account(
    karim, django_capture_on_commit_callbacks
):
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(karim)
    profile.avatar.save("karim.png", SimpleUploadedFile("karim.png", b"\x89PNG\r\n\x1a\n"))
    storage, name = profile.avatar.storage, profile.avatar.name
    assert storage.exists(name)

    erase(karim, django_capture_on_commit_callbacks)

    assert not storage.exists(name)
    assert not UserProfile.objects.filter(user=karim).exists()


# --- From the admin -------------------------------------------------------------------


def test_deleting_a_user_in_the_admin_erases_the_account_and_keeps_the_evidence(
    client, staff, journey, camille, django_capture_on_commit_callbacks
):
    services.enrol(camille, journey.track)
    services.mark_lesson_done(camille, journey.basics.lessons().first())
    client.force_login(staff)
    url = reverse("wagtailusers_users:delete", args=[camille.pk])

    page = client.get(url)
    assert "Effacer le compte de Camille Martin ?" in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)

    camille = User.objects.get(pk=camille.pk)
    assert camille.erased_at is not None and not camille.is_active
    assert camille.full_name == "" and camille.email.endswith("@erased.invalid")
    assert camille.lesson_progress.exists()
    assert "Le compte de Camille Martin a été effacé" in response.text


def test_deleting_users_in_bulk_erases_each_of_them(
    client, staff, camille, dominique, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    url = reverse("wagtail_bulk_action", args=["learners", "user", "delete"])
    url += f"?id={camille.pk}&id={dominique.pk}&next=/cms-admin/users/"

    confirm = client.get(url)
    assert "Oui, effacer ces comptes" in confirm.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)

    assert response.status_code == 200
    assert set(
        User.objects.filter(pk__in=[camille.pk, dominique.pk]).values_list("erased_at", flat=True)
    ).isdisjoint({None})
    assert User.objects.filter(pk__in=[camille.pk, dominique.pk]).count() == 2
    assert "2 comptes effacés" in response.text


def test_the_admin_s_history_no_longer_names_the_person_nor_her_accommodation_request(
    camille, journey, django_capture_on_commit_callbacks
):
    from wagtail.log_actions import log
    from wagtail.models import ModelLogEntry

    from learners.models import AccommodationRequest

    request = AccommodationRequest.objects.create(
        learner=camille, track=journey.track, need="Sous-titres."
    )
    # As logged before labels left the name out, and as Wagtail's user admin logs.
    log(instance=request, action="wagtail.edit")
    log(instance=camille, action="wagtail.edit")
    assert ModelLogEntry.objects.filter(label__contains="Camille").count() == 2

    erase(camille, django_capture_on_commit_callbacks)

    assert not ModelLogEntry.objects.filter(label__contains="Camille").exists()
    assert sorted(
        ModelLogEntry.objects.exclude(action="learners.erase").values_list("label", flat=True)
    ) == ["Compte supprimé", "Demande d'aménagement"]


def test_who_erased_an_account_and_when_stays_in_the_history_and_a_second_erasure_changes_nothing(
    client, staff, camille, django_capture_on_commit_callbacks
):
    from wagtail.models import ModelLogEntry

    client.force_login(staff)
    url = reverse("wagtailusers_users:delete", args=[camille.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    erased_at = User.objects.get(pk=camille.pk).erased_at

    (entry,) = ModelLogEntry.objects.filter(action="learners.erase")
    assert (entry.object_id, entry.user_id, entry.label) == (
        str(camille.pk),
        staff.pk,
        "Compte supprimé",
    )
    again = client.get(url, follow=True)
    assert "Ce compte a déjà été effacé." in again.text
    services.erase_account(User.objects.get(pk=camille.pk), by=staff)
    assert User.objects.get(pk=camille.pk).erased_at == erased_at
    assert ModelLogEntry.objects.filter(action="learners.erase").count() == 1


# --- Copies of the account loaded before the erasure ---------------------------------------


def test_a_copy_loaded_before_the_erasure_does_not_erase_twice(
    camille, django_capture_on_commit_callbacks
):
    from wagtail.models import ModelLogEntry

    loaded_before = User.objects.get(pk=camille.pk)
    erased = erase(camille, django_capture_on_commit_callbacks)

    services.erase_account(loaded_before)

    assert User.objects.get(pk=camille.pk).erased_at == erased.erased_at
    assert ModelLogEntry.objects.filter(action="learners.erase").count() == 1


def test_a_profile_saved_from_a_copy_loaded_before_the_erasure_brings_nothing_back(
    client, camille, monkeypatch, django_capture_on_commit_callbacks
):
    from learners.forms import ProfileForm

    client.force_login(camille)
    checked = ProfileForm.is_valid

    def erased_by_the_team_meanwhile(form):
        erase(User.objects.get(pk=camille.pk), django_capture_on_commit_callbacks)
        return checked(form)

    monkeypatch.setattr(ProfileForm, "is_valid", erased_by_the_team_meanwhile)
    client.post(reverse("learners:profile"), {"full_name": "Camille", "job_title": ""})

    account = User.objects.get(pk=camille.pk)
    assert account.erased_at is not None and not account.is_active
    assert account.email != camille.email and not account.has_usable_password()
    assert (account.full_name, account.job_title) == ("", "")


def test_an_erased_trainer_gets_no_authoring_group_back(karim, django_capture_on_commit_callbacks):
    assert karim.groups.exists()

    erased = erase(karim, django_capture_on_commit_callbacks)

    assert not erased.groups.exists()


def test_the_team_can_neither_edit_nor_reactivate_an_erased_account(
    client, staff, camille, dominique, django_capture_on_commit_callbacks
):
    erase(camille, django_capture_on_commit_callbacks)
    User.objects.filter(pk=dominique.pk).update(is_active=False)
    client.force_login(staff)

    edit = reverse("wagtailusers_users:edit", args=[camille.pk])
    refused = client.post(edit, {"email": "camille@example.org", "is_active": "on"}, follow=True)
    assert "Ce compte a été effacé : il ne peut plus être modifié." in refused.text
    url = reverse("wagtail_bulk_action", args=["learners", "user", "set_active_state"])
    url += f"?id={camille.pk}&id={dominique.pk}&next=/cms-admin/users/"
    client.post(url, {"mark_as_active": "True"})

    from django.contrib.auth.models import Group

    role = Group.objects.create(name="Équipe pédagogique")
    url = reverse("wagtail_bulk_action", args=["learners", "user", "assign_role"])
    url += f"?id={camille.pk}&id={dominique.pk}&next=/cms-admin/users/"
    client.post(url, {"role": role.pk})

    account = User.objects.get(pk=camille.pk)
    assert not account.is_active and account.email != "camille@example.org"
    assert not account.groups.exists()
    assert User.objects.get(pk=dominique.pk).is_active  # reactivated, as asked
    assert User.objects.get(pk=dominique.pk).groups.filter(pk=role.pk).exists()
