"""Accounts unused for three years: a notice mailed a month ahead, then the erasure."""

import datetime
import html
import logging
from functools import partial
from smtplib import SMTPRecipientsRefused

from django.utils import formats, timezone
from wagtail.models import ModelLogEntry

from courses.models.pages import Format
from learners import inactive_accounts, services
from learners.inactive_accounts import NOTICE_BEFORE, UNUSED_KEPT, erase_due, send_notices
from learners.models import User
from learners.session_models import Seat, TrainingSession
from learners.tasks import erase_unused_accounts

DAY = datetime.timedelta(days=1)


def last_used(user: User, ago: datetime.timedelta) -> User:
    when = timezone.now() - ago
    User.objects.filter(pk=user.pk).update(last_login=when, date_joined=when - DAY)
    return User.objects.get(pk=user.pk)


def told_at(user: User) -> datetime.datetime | None:
    return User.objects.get(pk=user.pk).inactivity_notice_at


def erased(user: User) -> bool:
    return User.objects.get(pk=user.pk).erased_at is not None


def test_a_month_before_its_three_years_an_unused_account_is_told_once(camille, mailoutbox):
    last_used(camille, UNUSED_KEPT - NOTICE_BEFORE + DAY)

    assert send_notices() == 1
    assert send_notices() == 0

    (mail,) = mailoutbox
    assert mail.to == ["camille@example.org"]
    erased_on = timezone.localdate() + NOTICE_BEFORE
    assert f"supprimé le {erased_on.day}" in mail.subject
    body = mail.body
    assert "Bonjour Camille Martin," in body
    assert "/comptes/login/" in body
    assert "/moi/donnees/" in body
    assert told_at(camille) is not None
    assert not erased(camille)


def test_it_is_erased_a_month_after_the_notice_and_not_before(camille, mailoutbox):
    last_used(camille, UNUSED_KEPT - NOTICE_BEFORE + DAY)
    send_notices()
    later = timezone.now() + NOTICE_BEFORE - DAY

    assert erase_due(later) == 0
    assert not erased(camille)

    assert erase_due(later + 2 * DAY) == 1
    account = User.objects.get(pk=camille.pk)
    assert account.erased_at is not None and account.email != "camille@example.org"
    (entry,) = ModelLogEntry.objects.filter(action="learners.erase_unused")
    assert (entry.object_id, entry.user_id) == (str(camille.pk), None)


def test_signing_in_after_the_notice_keeps_the_account_and_starts_a_new_period(
    client, camille, mailoutbox
):
    last_used(camille, UNUSED_KEPT - NOTICE_BEFORE + DAY)
    send_notices()
    client.force_login(camille)  # Django stamps last_login

    assert erase_due(timezone.now() + NOTICE_BEFORE + DAY) == 0
    assert not erased(camille)
    # Three years later, unused again: told again, as the earlier notice is void.
    assert send_notices(timezone.now() + UNUSED_KEPT) == 1
    assert len(mailoutbox) == 2


def test_a_sign_in_between_the_list_and_the_erasure_keeps_the_account(camille, mailoutbox):
    last_used(camille, UNUSED_KEPT + NOTICE_BEFORE)
    User.objects.filter(pk=camille.pk).update(
        inactivity_notice_at=timezone.now() - NOTICE_BEFORE - DAY
    )
    listed = inactive_accounts.to_erase().get(pk=camille.pk)
    User.objects.filter(pk=camille.pk).update(last_login=timezone.now())

    still_due = partial(inactive_accounts._still_due, camille.pk, timezone.now())
    assert services.erase_account(listed, still_due=still_due) is False
    assert not erased(camille)
    assert erase_due() == 0


def test_accounts_used_within_three_years_are_left_alone(camille, dominique, mailoutbox):
    last_used(camille, UNUSED_KEPT - NOTICE_BEFORE - DAY)
    User.objects.filter(pk=dominique.pk).update(
        last_login=None, date_joined=timezone.now() - datetime.timedelta(days=400)
    )

    assert send_notices() == 0
    assert erase_due(timezone.now() + NOTICE_BEFORE - 2 * DAY) == 0
    assert mailoutbox == []


def test_an_account_that_never_signed_in_counts_from_its_creation(dominique, mailoutbox):
    User.objects.filter(pk=dominique.pk).update(
        last_login=None, date_joined=timezone.now() - UNUSED_KEPT
    )

    assert send_notices() == 1
    assert mailoutbox[0].to == ["dominique@example.org"]


def test_a_place_in_a_session_within_the_period_counts_as_use(camille, journey, mailoutbox):
    # A public agent may sign her attendance by link and never sign in.
    last_used(camille, UNUSED_KEPT + NOTICE_BEFORE)
    day = timezone.localdate() - datetime.timedelta(days=200)
    session = TrainingSession.objects.create(
        track=journey.track, format=Format.ONLINE, starts_on=day, ends_on=day, capacity=5
    )
    Seat.objects.create(session=session, learner=camille, status=Seat.Status.CONFIRMED)

    assert send_notices() == 0
    assert erase_due(timezone.now() + NOTICE_BEFORE) == 0
    # Three years after that session, she is told (the trainers of the fixture too).
    send_notices(timezone.now() + UNUSED_KEPT)
    assert told_at(camille) is not None


def test_a_place_given_after_the_notice_makes_it_void(camille, journey, mailoutbox):
    last_used(camille, UNUSED_KEPT - NOTICE_BEFORE + DAY)
    send_notices()
    day = timezone.localdate() + datetime.timedelta(days=10)
    session = TrainingSession.objects.create(
        track=journey.track, format=Format.ONLINE, starts_on=day, ends_on=day, capacity=5
    )
    Seat.objects.create(session=session, learner=camille, status=Seat.Status.CONFIRMED)

    assert erase_due(timezone.now() + NOTICE_BEFORE + DAY) == 0
    # Three years after that session, the old notice is void: not erased on it, but
    # told again, with the session's day as her last use.
    later = timezone.now() + UNUSED_KEPT + 15 * DAY
    erase_due(later)
    assert not erased(camille)
    send_notices(later)
    assert told_at(camille) > timezone.now()
    mail = [mail for mail in mailoutbox if mail.to == [camille.email]][-1]
    assert f"depuis le {formats.date_format(day, 'DATE_FORMAT')}." in mail.body


def test_a_trainer_of_a_session_to_come_is_using_the_account(karim, journey, mailoutbox):
    last_used(karim, UNUSED_KEPT + NOTICE_BEFORE)
    day = timezone.localdate() + datetime.timedelta(days=10)
    session = TrainingSession.objects.create(
        track=journey.track, format=Format.ONLINE, starts_on=day, ends_on=day, capacity=5
    )
    session.trainers.add(karim)

    send_notices()
    assert told_at(karim) is None


def test_nothing_is_told_nor_erased_when_mails_go_nowhere(camille, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    last_used(camille, UNUSED_KEPT + NOTICE_BEFORE)
    User.objects.filter(pk=camille.pk).update(is_active=False)

    with caplog.at_level(logging.ERROR, logger="learners.inactive_accounts"):
        assert send_notices() == 0
        assert erase_due() == 0

    assert not erased(camille) and "no mail server is configured" in caplog.text


def test_the_operating_team_is_left_to_the_team(staff, mailoutbox):
    last_used(staff, UNUSED_KEPT + NOTICE_BEFORE)

    assert send_notices() == 0
    assert erase_due() == 0
    assert not erased(staff)


def test_a_deactivated_account_is_erased_at_the_end_of_its_period_without_a_notice(
    camille, mailoutbox
):
    last_used(camille, UNUSED_KEPT - NOTICE_BEFORE + DAY)
    User.objects.filter(pk=camille.pk).update(is_active=False)

    assert send_notices() == 0
    assert erase_due() == 0
    assert erase_due(timezone.now() + NOTICE_BEFORE) == 1
    assert mailoutbox == []


def test_a_notice_that_cannot_be_mailed_holds_the_erasure_and_is_tried_again(
    camille, dominique, mailoutbox, monkeypatch, caplog
):
    for person in (camille, dominique):
        last_used(person, UNUSED_KEPT + NOTICE_BEFORE)
    real_send = inactive_accounts.send_mail

    def refuse_camille(subject, body, sender, recipients, **kwargs):
        if recipients == ["camille@example.org"]:
            raise SMTPRecipientsRefused({"camille@example.org": (550, b"unknown")})
        return real_send(subject, body, sender, recipients, **kwargs)

    monkeypatch.setattr(inactive_accounts, "send_mail", refuse_camille)
    with caplog.at_level(logging.ERROR, logger="learners.inactive_accounts"):
        assert send_notices() == 1

    assert [mail.to for mail in mailoutbox] == [["dominique@example.org"]]
    assert told_at(camille) is None and "Could not mail the inactivity notice" in caplog.text
    assert erase_due(timezone.now() + NOTICE_BEFORE + DAY) == 1  # Dominique only
    assert not erased(camille) and erased(dominique)

    monkeypatch.setattr(inactive_accounts, "send_mail", real_send)
    assert send_notices() == 1
    assert told_at(camille) is not None


def test_the_daily_task_tells_then_erases(camille, dominique, mailoutbox):
    last_used(camille, UNUSED_KEPT - NOTICE_BEFORE + DAY)
    last_used(dominique, UNUSED_KEPT + NOTICE_BEFORE)
    User.objects.filter(pk=dominique.pk).update(
        inactivity_notice_at=timezone.now() - NOTICE_BEFORE - DAY
    )

    assert erase_unused_accounts() == {"told": 1, "erased": 1}
    assert erased(dominique) and not erased(camille)


def test_the_privacy_page_and_my_data_say_it(client, camille):
    page = html.unescape(client.get("/confidentialite/").text)
    assert "inutilisé pendant trois ans" in page and "un mois avant" in page

    client.force_login(camille)
    from learners import exports

    assert "inactivity_notice_at" in exports.profile(camille)


def test_the_beat_runs_it_every_day(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["learners-erase-unused-accounts"]
    assert entry["task"] == "learners.tasks.erase_unused_accounts"
    assert entry["schedule"].hour == {10} and entry["schedule"].minute == {20}
