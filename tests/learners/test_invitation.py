"""A manager invites agents by a pasted list or a CSV: all or nothing, each bad line named."""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from learners import invitations, organisations
from learners.models import Invitation, InvitationBatch, User

INVITE_URL = "/organisation/inviter/"


@pytest.fixture(autouse=True)
def eager_tasks():
    """Send in-process even when CI sets a broker: these tests read the outbox."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def csv_file(text: str, *, encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile("agents.csv", text.encode(encoding), content_type="text/csv")


def link_in(message) -> str:
    return re.search(r"https?://\S+/agents/invitation/\S+/", message.body).group(0)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_a_manager_invites_a_pasted_list_and_every_address_receives_a_link(
    client, helene, django_capture_on_commit_callbacks
):
    client.force_login(helene)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(INVITE_URL, {"emails": "Anne@Example.org\n\nbruno@example.org;\n"})
    batch = InvitationBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("organisations:batch_progress", args=[batch.pk])
    assert (batch.organisation, batch.invited_by) == (helene.organisation, helene)
    assert (batch.total, batch.sent, batch.status) == (2, 2, InvitationBatch.Status.DONE)
    assert sorted(m.to[0] for m in mail.outbox) == ["anne@example.org", "bruno@example.org"]
    assert all("/agents/invitation/" in m.body for m in mail.outbox)


def test_a_list_sent_twice_within_the_hour_mails_nobody_twice(
    client, helene, django_capture_on_commit_callbacks
):
    client.force_login(helene)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(INVITE_URL, {"emails": "anne@example.org\nbruno@example.org\n"})
    assert len(mail.outbox) == 2

    again = client.post(INVITE_URL, {"emails": "claire@example.org\nAnne@example.org\n"})

    assert again.status_code == 400
    errors = {error.line: error.message for error in again.context["line_errors"]}
    assert list(errors) == [2] and "anne@example.org" in errors[2]
    assert InvitationBatch.objects.count() == 1
    # The next day, a mail lost to a spam folder can be sent again.
    InvitationBatch.objects.update(created_at=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        renewed = client.post(INVITE_URL, {"emails": "anne@example.org\n"})
    assert renewed.status_code == 302
    assert [m.to for m in mail.outbox[2:]] == [["anne@example.org"]]


def test_a_csv_with_bom_and_semicolons_is_read_with_names_and_job_titles(
    client, helene, django_capture_on_commit_callbacks
):
    client.force_login(helene)
    upload = csv_file(
        "email;full_name;job_title\nanne@example.org;Anne Durand;Chargée de mission\n"
        "bruno@example.org;Bruno Roy;\n",
        encoding="utf-8-sig",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(INVITE_URL, {"file": upload})
    assert response.status_code == 302
    anne = Invitation.objects.get(email="anne@example.org")
    assert (anne.full_name, anne.job_title) == ("Anne Durand", "Chargée de mission")
    assert Invitation.objects.get(email="bruno@example.org").full_name == "Bruno Roy"
    assert len(mail.outbox) == 2


def test_a_comma_separated_csv_with_only_an_email_column_is_accepted(helene):
    rows = invitations.rows_from_csv(b"email\r\nanne@example.org\r\n")
    assert [(r.line, r.email) for r in rows] == [(2, "anne@example.org")]


def test_a_list_with_bad_lines_is_refused_whole_and_every_bad_line_is_reported(
    client, helene, sophie
):
    client.force_login(helene)
    upload = csv_file(
        "email,full_name\n"
        "anne@example.org,Anne\n"  # 2: fine
        "pas-une-adresse,Paul\n"  # 3: invalid
        "ANNE@example.org,Anne bis\n"  # 4: duplicate of line 2
        f"{sophie.email},Sophie\n"  # 5: already a member
        "claire@example.org\n"  # 6: fine, the name may be left out
        ",Sans adresse\n"  # 7: empty address
    )
    response = client.post(INVITE_URL, {"file": upload})
    assert response.status_code == 400
    errors = {error.line: error.message for error in response.context["line_errors"]}
    assert sorted(errors) == [3, 4, 5, 7]
    assert "pas-une-adresse" in errors[3]
    assert "2" in errors[4]
    assert sophie.email in errors[5]
    assert not InvitationBatch.objects.exists()
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_a_closed_account_is_refused_as_closed_not_as_already_a_member(
    client, helene, sophie, camille
):
    User.objects.filter(pk__in=[sophie.pk, camille.pk]).update(is_active=False)
    client.force_login(helene)

    response = client.post(INVITE_URL, {"emails": f"{sophie.email}\n{camille.email}\n"})

    assert response.status_code == 400
    errors = {error.line: error.message for error in response.context["line_errors"]}
    assert sorted(errors) == [1, 2]  # a member's or not, the link would be refused
    assert "compte fermé" in errors[1] and "déjà membre" not in errors[1]
    assert camille.email in errors[2]
    assert not Invitation.objects.exists()


def test_a_list_is_checked_against_the_account_its_link_would_find(client, helene, sophie, camille):
    from allauth.account.models import EmailAddress

    # Camille's account is closed; she had confirmed a second address. Sophie, a
    # member, is typed with capitals.
    EmailAddress.objects.create(user=camille, email="camille.pro@mairie.fr", verified=True)
    User.objects.filter(pk=camille.pk).update(is_active=False)
    client.force_login(helene)

    response = client.post(
        INVITE_URL, {"emails": f"camille.pro@mairie.fr\n{sophie.email.upper()}\n"}
    )

    assert response.status_code == 400
    errors = {error.line: error.message for error in response.context["line_errors"]}
    assert "compte fermé" in errors[1]
    assert "déjà membre" in errors[2]
    assert not Invitation.objects.exists()


def test_an_address_longer_than_the_column_is_refused_on_its_line(client, helene):
    client.force_login(helene)
    long_address = "a" * 250 + "@example.org"  # valid for validate_email (320), not for us

    response = client.post(INVITE_URL, {"emails": f"anne@example.org\n{long_address}\n"})

    assert response.status_code == 400
    errors = {error.line: error.message for error in response.context["line_errors"]}
    assert list(errors) == [2]
    assert "254" in errors[2]
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"nom;fonction\nAnne;DGS\n", 1),  # no email column
        (b"email,age\nanne@example.org,40\n", 1),  # unknown column
        (b"email\nanne@example.org,extra\n", 2),  # too many cells
        ("email\nanne@exemple.fr\n".encode("utf-16"), 0),  # not UTF-8
        (b"", 0),  # empty
        (b"email\nx\x00y@example.org\n", 0),  # NUL: a binary format, not text
        (b"email,full_name\nanne@example.org," + b"A" * 140_000 + b"\n", 2),  # past csv's limit
        (b'email\nanne@example.org\n"never closed\n', 3),  # a quote left open
    ],
    ids=["no-email", "unknown-column", "too-many-cells", "utf-16", "empty", "nul", "huge", "quote"],
)
def test_a_badly_shaped_file_is_refused_with_a_reason_and_stores_nothing(
    client, helene, data, line
):
    client.force_login(helene)
    upload = SimpleUploadedFile("agents.csv", data, content_type="text/csv")
    response = client.post(INVITE_URL, {"file": upload})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert [error.line for error in response.context["line_errors"]] == [line]
    else:  # an empty upload is refused by the form itself
        assert response.context["form"].errors
    assert not InvitationBatch.objects.exists()


def test_pasting_nothing_or_both_a_list_and_a_file_is_refused(client, helene):
    client.force_login(helene)
    assert client.post(INVITE_URL, {"emails": "  \n"}).context["form"].errors
    both = client.post(
        INVITE_URL, {"emails": "anne@example.org", "file": csv_file("email\nb@example.org\n")}
    )
    assert both.context["form"].errors
    assert not InvitationBatch.objects.exists()


def test_only_a_manager_reaches_the_invitation_pages(client, sophie, camille, helene, marc):
    batch = InvitationBatch.objects.create(organisation=helene.organisation, total=0)
    for person in (sophie, camille):
        client.force_login(person)
        assert client.get(INVITE_URL).status_code == 404
        assert client.post(INVITE_URL, {"emails": "x@example.org"}).status_code == 404
    client.force_login(marc)  # manages another organisation
    assert client.get(reverse("organisations:batch_progress", args=[batch.pk])).status_code == 404
    assert (
        client.get(reverse("organisations:batch_progress_json", args=[batch.pk])).status_code == 404
    )
    assert not Invitation.objects.exists()


def test_the_progress_page_works_without_javascript_and_its_json_counts_the_mails(client, helene):
    batch = InvitationBatch.objects.create(
        organisation=helene.organisation, invited_by=helene, total=3, sent=1
    )
    client.force_login(helene)
    url = reverse("organisations:batch_progress", args=[batch.pk])
    page = client.get(url)
    assert b'http-equiv="refresh"' not in page.content
    assert f'<a href="{url}" data-testid="invitation-progress-refresh">'.encode() in page.content
    progress = client.get(reverse("organisations:batch_progress_json", args=[batch.pk])).json()
    assert progress == {
        "status": "pending",
        "total": 3,
        "sent": 1,
        "percent": 33,
        "finished": False,
    }


def test_sending_a_batch_twice_sends_each_mail_once(helene):
    rows = invitations.rows_from_text("anne@example.org\nbruno@example.org")
    batch = invitations.invite(helene, rows)  # no commit in this test: nothing enqueued
    assert invitations.send_batch(batch.pk) == 2
    assert invitations.send_batch(batch.pk) == 0
    batch.refresh_from_db()
    assert (batch.sent, batch.status, len(mail.outbox)) == (2, "done", 2)


def test_a_failing_mail_releases_its_claim_so_a_retry_sends_it(helene, monkeypatch):
    batch = invitations.invite(helene, invitations.rows_from_text("anne@example.org"))

    def broken(invitation):
        raise OSError("mail server down")

    monkeypatch.setattr(invitations, "_send_one", broken)
    with pytest.raises(OSError):
        invitations.send_batch(batch.pk)
    assert Invitation.objects.get().sent_at is None
    monkeypatch.undo()
    assert invitations.send_batch(batch.pk) == 1


def test_an_address_the_mail_server_refuses_for_good_blocks_nobody_else_and_is_listed(
    client, helene, monkeypatch
):
    import smtplib

    batch = invitations.invite(
        helene, invitations.rows_from_text("nobody@mairie.fr\nanne@example.org\nbob@example.org")
    )
    send = invitations._send_one

    def refusing(invitation):
        if invitation.email == "nobody@mairie.fr":
            raise smtplib.SMTPRecipientsRefused({invitation.email: (550, b"5.1.1 No such user")})
        return send(invitation)

    monkeypatch.setattr(invitations, "_send_one", refusing)

    assert invitations.send_batch(batch.pk) == 2

    batch.refresh_from_db()
    assert (batch.status, batch.sent, batch.total) == ("done", 2, 3)
    refused = Invitation.objects.get(email="nobody@mairie.fr")
    assert refused.sent_at is None and refused.undelivered_at is not None
    assert "550" in refused.undelivered_reason
    assert not Invitation.objects.pending().filter(pk=refused.pk).exists()
    assert sorted(m.to[0] for m in mail.outbox) == ["anne@example.org", "bob@example.org"]
    client.force_login(helene)
    page = client.get(reverse("organisations:batch_progress", args=[batch.pk])).content.decode()
    assert 'data-testid="undelivered"' in page and "nobody@mairie.fr" in page
    # Nobody received it: once the mailbox is fixed it may be invited again at once.
    again = invitations.invite(helene, invitations.rows_from_text("nobody@mairie.fr"))
    assert again.total == 1


def test_an_address_refused_for_now_is_retried_not_given_up(helene, monkeypatch):
    import smtplib

    batch = invitations.invite(helene, invitations.rows_from_text("anne@example.org"))

    def greylisted(invitation):
        raise smtplib.SMTPRecipientsRefused({invitation.email: (451, b"Try again later")})

    monkeypatch.setattr(invitations, "_send_one", greylisted)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        invitations.send_batch(batch.pk)
    invitation = Invitation.objects.get()
    assert (invitation.sent_at, invitation.undelivered_at) == (None, None)


def test_a_mailbox_refusing_for_now_holds_back_only_its_own_invitation(helene, monkeypatch):
    import smtplib

    batch = invitations.invite(
        helene, invitations.rows_from_text("plein@mairie.fr\nanne@example.org\nbob@example.org")
    )
    send = invitations._send_one

    def mailbox_full(invitation):
        if invitation.email == "plein@mairie.fr":
            raise smtplib.SMTPRecipientsRefused({invitation.email: (452, b"Mailbox full")})
        return send(invitation)

    monkeypatch.setattr(invitations, "_send_one", mailbox_full)

    # Raised for the task to retry, once the others went.
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        invitations.send_batch(batch.pk)

    assert sorted(m.to[0] for m in mail.outbox) == ["anne@example.org", "bob@example.org"]
    batch.refresh_from_db()
    assert (batch.sent, batch.status) == (2, InvitationBatch.Status.SENDING)
    monkeypatch.undo()
    assert invitations.send_batch(batch.pk) == 1
    batch.refresh_from_db()
    assert (batch.sent, batch.status) == (3, InvitationBatch.Status.DONE)


def test_a_mail_server_down_stops_the_batch_at_its_first_mail(helene, monkeypatch):
    batch = invitations.invite(
        helene, invitations.rows_from_text("anne@example.org\nbob@example.org")
    )
    tried = []

    def down(invitation):
        tried.append(invitation.email)
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(invitations, "_send_one", down)
    with pytest.raises(ConnectionRefusedError):
        invitations.send_batch(batch.pk)
    # Every other mail would wait for the same timeout: the retry comes later.
    assert len(tried) == 1


def test_rows_pasted_from_a_spreadsheet_keep_their_address_name_and_job_title():
    pasted = (
        "Courriel\tNom\tFonction\n"
        "jean@mairie.fr\tJean-François Lefèvre\tChargée de développement\n"
        "Anne Durand\tanne@example.org\n"
        "bob@example.org\t\t\n"
    )

    rows = invitations.rows_from_text(pasted)

    assert [(r.line, r.email, r.full_name, r.job_title) for r in rows] == [
        (2, "jean@mairie.fr", "Jean-François Lefèvre", "Chargée de développement"),
        (3, "anne@example.org", "Anne Durand", ""),
        (4, "bob@example.org", "", ""),
    ]


@pytest.mark.parametrize(
    "titles_then_row",
    [
        "Courriel\tNom\tPrénom\njean@mairie.fr\tDupont\tJean",
        "Prénom\tNom\tCourriel\nJean\tDupont\tjean@mairie.fr",
        "Fonction\tCourriel\tNom\tPrénom\nSecrétaire\tjean@mairie.fr\tDupont\tJean",
    ],
    ids=["address first", "address last", "job title first"],
)
def test_pasted_rows_are_read_by_the_titles_pasted_with_them(titles_then_row):
    (row,) = invitations.rows_from_text(titles_then_row)

    # Not « Dupont » with « Jean » as a job title: the attestation prints this name.
    assert (row.email, row.full_name) == ("jean@mairie.fr", "Jean Dupont")
    assert row.job_title == ("Secrétaire" if titles_then_row.startswith("Fonction") else "")


def test_an_empty_row_pasted_from_a_spreadsheet_is_skipped():
    rows = invitations.rows_from_text("jean@mairie.fr\tDupont\n\t\t\nanne@example.org\tDurand")

    assert [(r.line, r.email) for r in rows] == [(1, "jean@mairie.fr"), (3, "anne@example.org")]


def test_a_pasted_row_longer_than_its_titles_is_named(helene):
    rows = invitations.rows_from_text("Courriel\tNom\njean@mairie.fr\tDupont\tJean\tMairie")

    with pytest.raises(invitations.InvitationListRefused) as refused:
        invitations.check_rows(helene.organisation, rows)

    assert "4 cellules pour 2 colonnes titrées" in refused.value.errors[0].message


def test_pasted_cells_with_two_addresses_or_too_many_cells_are_named(helene):
    rows = invitations.rows_from_text(
        "jean@mairie.fr\tanne@example.org\nbob@example.org\tBob\tAgent\tMairie\tGuéret"
    )

    with pytest.raises(invitations.InvitationListRefused) as refused:
        invitations.check_rows(helene.organisation, rows)

    messages = {error.line: error.message for error in refused.value.errors}
    assert "une adresse par ligne" in messages[1] and "2 adresses" in messages[1]
    assert "4 cellules en plus de l'adresse" in messages[2]


def test_words_after_an_address_are_not_glued_to_it(helene):
    rows = invitations.rows_from_text("jean@mairie.fr Dupont")

    with pytest.raises(invitations.InvitationListRefused) as refused:
        invitations.check_rows(helene.organisation, rows)

    # Read as it was typed, not as « jean@mairie.frdupont », a valid-looking address.
    assert all("frdupont" not in error.message for error in refused.value.errors)
    assert "Adresse e-mail invalide" in refused.value.errors[0].message


def test_invisible_characters_pasted_in_an_address_are_dropped(helene, sophie):
    # A soft hyphen and a zero-width space, as copied from a web page or a PDF.
    rows = invitations.rows_from_text("ne\u00adw@exa\u200bmple.org\nsoph\u00adie@example.org")

    with pytest.raises(invitations.InvitationListRefused) as refused:
        invitations.check_rows(helene.organisation, rows)

    # Sophie is recognised as the member she is, not as a new address.
    [error] = refused.value.errors
    assert "« sophie@example.org » est déjà membre" in error.message
    assert invitations.check_rows(helene.organisation, rows[:1])[0].email == "new@example.org"


def test_a_csv_header_typed_with_accents_apart_is_understood():
    decomposed = "Pre\u0301nom;Nom;Adresse email\nAnne;Durand;anne@example.org\n"

    [row] = invitations.rows_from_csv(decomposed.encode())

    assert (row.email, row.full_name) == ("anne@example.org", "Anne Durand")


# --- Accepting -------------------------------------------------------------------------


def invite_and_get_link(helene, email="anne@example.org", name="Anne Durand") -> str:
    rows = [invitations.InviteRow(line=2, email=email, full_name=name)]
    batch = invitations.invite(helene, rows)
    invitations.send_batch(batch.pk)
    return path_of(link_in(mail.outbox[-1]))


def test_the_invitation_link_creates_a_verified_account_and_logs_the_agent_in(client, helene):
    link = invite_and_get_link(helene)
    # Opening the link (as a mail scanner would) changes nothing.
    assert client.get(link).status_code == 200
    assert not User.objects.filter(email="anne@example.org").exists()
    response = client.post(link)
    assert response.status_code == 302
    anne = User.objects.get(email="anne@example.org")
    assert (anne.full_name, anne.role, anne.organisation) == (
        "Anne Durand",
        User.Role.PUBLIC_AGENT,
        helene.organisation,
    )
    assert not anne.has_usable_password()
    assert EmailAddress.objects.get(user=anne).verified
    assert client.get(reverse("learners:dashboard")).wsgi_request.user == anne
    assert Invitation.objects.get().accepted_by == anne


def test_two_invitations_of_one_new_address_accepted_at_once_make_one_account(
    client, helene, marc, monkeypatch
):
    first = invite_and_get_link(helene)
    second = invite_and_get_link(marc)  # another organisation invites her too
    client.post(first)  # committed while the second acceptance had already looked
    client.logout()
    real_invitee, calls = invitations.invitee, []

    def looked_before_she_existed(email):
        calls.append(email)
        return None if len(calls) == 1 else real_invitee(email)

    monkeypatch.setattr(invitations, "invitee", looked_before_she_existed)

    response = client.post(second)

    assert response.status_code == 302  # was a 500: the address was taken meanwhile
    anne = User.objects.get(email="anne@example.org")
    assert anne.organisation == marc.organisation  # the last link clicked, as in turn
    assert Invitation.objects.filter(accepted_by=anne).count() == 2
    assert len(calls) == 2  # the second look found the account the first had committed


def test_an_invitation_link_works_once(client, helene):
    link = invite_and_get_link(helene)
    client.post(link)
    client.logout()
    assert client.post(link).status_code == 410
    assert client.get(link).status_code == 410
    assert User.objects.filter(email="anne@example.org").count() == 1


def test_an_expired_or_unknown_link_is_refused(client, helene):
    link = invite_and_get_link(helene)
    Invitation.objects.update(sent_at=timezone.now() - Invitation.VALIDITY)
    assert client.post(link).status_code == 410
    assert client.post("/agents/invitation/nope/").status_code == 410
    assert not User.objects.filter(email="anne@example.org").exists()


def test_an_existing_account_joins_the_organisation_through_its_invitation(
    client, helene, marc, camille
):
    link = invite_and_get_link(helene, email=camille.email, name="")
    client.post(link)
    camille.refresh_from_db()
    assert camille.organisation == helene.organisation
    assert camille.full_name == "Camille Martin"
    # A manager invited elsewhere stops managing their former organisation.
    link = invite_and_get_link(helene, email=marc.email, name="")
    client.post(link)
    marc.refresh_from_db()
    assert (marc.organisation, marc.is_organisation_manager) == (helene.organisation, False)


# --- Lists as managers have them ---------------------------------------------------------


def test_a_csv_row_without_its_trailing_optional_cells_is_read_with_empty_ones(helene):
    rows = invitations.rows_from_csv(b"email;nom;fonction\nx1@mairie.fr\n")
    assert [(r.line, r.email, r.full_name, r.job_title, r.problem) for r in rows] == [
        (2, "x1@mairie.fr", "", "", "")
    ]


def test_a_csv_header_ending_with_empty_cells_is_read_as_spreadsheets_export_it(helene):
    rows = invitations.rows_from_csv(b"email;nom;;\nx1@mairie.fr;Claire Dupont;;\n")
    assert [(r.email, r.full_name, r.problem) for r in rows] == [
        ("x1@mairie.fr", "Claire Dupont", "")
    ]


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"email;courriel\na@mairie.fr;b@mairie.fr\n", "disent la même chose : email, courriel"),
        (b"email;nom;nom complet\na@m.fr;A;B\n", "disent la même chose : nom, nom complet"),
        (b"email;;nom\na@m.fr;x;A\n", "Colonnes sans titre : 2"),
        (b"email\tnom\na@m.fr\tA\n", "points-virgules ou des virgules, pas par des tabulations"),
    ],
    ids=["two addresses", "two names", "untitled", "tabs"],
)
def test_a_csv_header_that_would_lose_cells_is_refused_and_says_why(helene, data, said):
    with pytest.raises(invitations.InvitationListRefused) as refused:
        invitations.rows_from_csv(data)
    [error] = refused.value.errors
    assert error.line == 1 and said in error.message


def test_a_csv_row_without_the_address_names_the_column_as_the_manager_wrote_it(helene):
    rows = invitations.rows_from_csv(b"Nom;Courriel\nClaire Dupont\nPaul Martin;\n")
    assert [row.problem for row in rows] == ["Adresse manquante (colonne « Courriel »)."] * 2


def test_a_french_spreadsheet_with_first_names_apart_is_read_as_written(helene):
    rows = invitations.rows_from_csv(
        "Prénom;Nom;Adresse e-mail;Fonction\nClaire;Dupont;claire@mairie.fr;DGS\n".encode()
    )
    assert [(r.email, r.full_name, r.job_title) for r in rows] == [
        ("claire@mairie.fr", "Claire Dupont", "DGS")
    ]


def test_recipients_pasted_from_a_mail_client_are_read_with_their_names(helene):
    rows = invitations.rows_from_text(
        "Dupont Jean <jean.dupont@mairie.fr>; Martin Paul <paul.martin@mairie.fr>\n"
        "anne@mairie.fr, bruno@mairie.fr\n"
    )
    assert [(r.line, r.email, r.full_name) for r in rows] == [
        (1, "jean.dupont@mairie.fr", "Dupont Jean"),
        (1, "paul.martin@mairie.fr", "Martin Paul"),
        (2, "anne@mairie.fr", ""),
        (2, "bruno@mairie.fr", ""),
    ]
    checked = invitations.check_rows(helene.organisation, rows)
    assert [r.email for r in checked] == [
        "jean.dupont@mairie.fr",
        "paul.martin@mairie.fr",
        "anne@mairie.fr",
        "bruno@mairie.fr",
    ]


def test_a_pasted_line_that_is_no_address_is_reported_as_typed(client, helene):
    client.force_login(helene)
    response = client.post(INVITE_URL, {"emails": "anne@mairie.fr\npas une adresse ; x@\n"})
    assert response.status_code == 400
    errors = [(e.line, e.message) for e in response.context["line_errors"]]
    assert [line for line, _ in errors] == [2, 2]
    assert "pas une adresse" in errors[0][1]
    assert not Invitation.objects.exists()


def test_an_empty_csv_gets_one_reason_not_two_contradicting_ones(client, helene):
    client.force_login(helene)
    response = client.post(INVITE_URL, {"file": csv_file("")})
    page = response.content.decode()
    assert "Le fichier soumis est vide" in page
    assert "Collez au moins une adresse" not in page


def test_a_file_past_the_limit_is_refused_without_reading_it_whole(client, helene, monkeypatch):
    read = []
    original = invitations.rows_from_csv

    def rows_from_csv(data):
        read.append(len(data))
        return original(data)

    monkeypatch.setattr(invitations, "rows_from_csv", rows_from_csv)
    client.force_login(helene)
    big = "email\n" + "a@example.org\n" * 100_000  # 1.4 MB
    response = client.post(INVITE_URL, {"file": csv_file(big)})
    assert response.status_code == 400
    assert "trop volumineux" in response.content.decode()
    assert read == [invitations.MAX_UPLOAD_BYTES + 1]


# --- Accepting, as it happens to people with accounts --------------------------------------


def test_an_invitation_to_another_confirmed_address_of_an_account_joins_that_account(
    client, helene, camille
):
    EmailAddress.objects.create(user=camille, email="c.martin@mairie.fr", verified=True)
    link = invite_and_get_link(helene, email="c.martin@mairie.fr", name="")
    response = client.post(link)
    assert response.status_code == 302
    camille.refresh_from_db()
    assert camille.organisation == helene.organisation
    assert not User.objects.filter(email__iexact="c.martin@mairie.fr").exists()
    assert client.get(reverse("learners:dashboard")).wsgi_request.user == camille


def test_an_account_signing_in_with_an_address_another_confirmed_does_not_take_the_invitation(
    client, helene, camille
):
    # Created before sign-up refused such addresses: never confirmed, it cannot be.
    EmailAddress.objects.create(user=camille, email="c.martin@mairie.fr", verified=True)
    stray = User.objects.create_user(email="c.martin@mairie.fr", full_name="Doublon")
    link = invite_and_get_link(helene, email="c.martin@mairie.fr", name="")

    response = client.post(link)

    assert response.status_code == 302
    camille.refresh_from_db()
    stray.refresh_from_db()
    assert camille.organisation == helene.organisation and stray.organisation is None
    assert client.get(reverse("learners:dashboard")).wsgi_request.user == camille


def test_an_account_without_a_name_takes_the_name_its_invitation_gives(client, helene, camille):
    User.objects.filter(pk=camille.pk).update(full_name="")
    link = invite_and_get_link(helene, email=camille.email, name="Camille Martin-Durand")

    client.post(link)

    camille.refresh_from_db()
    assert camille.full_name == "Camille Martin-Durand"


def test_an_address_someone_else_claimed_without_confirming_goes_to_who_clicked_the_link(
    client, helene, camille
):
    EmailAddress.objects.create(user=camille, email="anne@example.org", verified=False)
    link = invite_and_get_link(helene)
    response = client.post(link)
    assert response.status_code == 302
    anne = User.objects.get(email="anne@example.org")
    assert anne != camille
    assert EmailAddress.objects.get(email="anne@example.org").user == anne
    camille.refresh_from_db()
    assert camille.organisation != helene.organisation


def test_the_invitation_says_what_joining_changes_for_a_manager_of_another_organisation(
    client, helene, marc
):
    link = invite_and_get_link(helene, email=marc.email, name="")
    page = client.get(link).content.decode()
    assert marc.organisation.name in page
    assert 'data-testid="invitation-leaves"' in page
    assert "ne gérerez plus" in page
    assert 'data-testid="manager-sees"' in page
    assert 'data-testid="invitation-other-account"' not in page


def test_the_invitation_warns_whoever_is_signed_in_with_another_account(client, helene, camille):
    link = invite_and_get_link(helene)
    client.force_login(camille)
    page = client.get(link).content.decode()
    assert 'data-testid="invitation-other-account"' in page
    assert 'data-testid="invitation-leaves"' not in page


@pytest.mark.parametrize("how", ["removed", "left"])
def test_an_older_link_does_not_bring_back_someone_who_left_or_was_removed(
    client, helene, how, django_capture_on_commit_callbacks
):
    first = invite_and_get_link(helene)
    Invitation.objects.update(sent_at=timezone.now() - timedelta(hours=2))
    InvitationBatch.objects.update(created_at=timezone.now() - timedelta(hours=2))
    second = invite_and_get_link(helene)
    client.post(second)
    anne = User.objects.get(email="anne@example.org")
    if how == "removed":
        organisations.remove_member(helene, anne)
    else:
        organisations.leave_organisation(anne)
    client.logout()

    response = client.post(first)

    assert response.status_code == 410
    assert "retirée" in response.content.decode()
    anne.refresh_from_db()
    assert anne.organisation is None


def test_whoever_created_an_account_with_the_address_without_confirming_it_loses_it_to_the_link(
    client, helene
):
    squatter = User.objects.create_user(
        email="anne@example.org", password="squatter-password-2026", full_name="Pas Anne"
    )
    EmailAddress.objects.create(user=squatter, email=squatter.email, verified=False, primary=True)
    squatting = Client()
    squatting.force_login(squatter)
    link = invite_and_get_link(helene)

    client.post(link)

    squatter.refresh_from_db()
    assert not squatter.has_usable_password()
    assert EmailAddress.objects.get(user=squatter).verified
    assert client.get(reverse("learners:dashboard")).wsgi_request.user == squatter
    # The squatter's own sign-in ended with it.
    assert not squatting.get(reverse("learners:dashboard")).wsgi_request.user.is_authenticated


def test_an_account_that_confirmed_its_address_keeps_its_password_when_it_joins(
    client, helene, camille
):
    link = invite_and_get_link(helene, email=camille.email, name="")
    client.post(link)
    camille.refresh_from_db()
    assert camille.has_usable_password()


def test_leaving_withdraws_no_invitation_to_an_address_the_leaver_never_confirmed(helene, sophie):
    EmailAddress.objects.create(user=sophie, email="anne@example.org", verified=False)
    invite_and_get_link(helene)

    organisations.leave_organisation(sophie)

    assert Invitation.objects.get(email="anne@example.org").withdrawn_at is None


def test_an_invitation_still_queued_is_withdrawn_too_and_never_sent(client, helene):
    first = invite_and_get_link(helene)
    InvitationBatch.objects.update(created_at=timezone.now() - timedelta(hours=2))
    # Sent again, but its mail is still waiting for the broker.
    queued = invitations.invite(helene, [invitations.InviteRow(line=2, email="anne@example.org")])
    client.post(first)
    anne = User.objects.get(email="anne@example.org")
    mail.outbox.clear()

    organisations.remove_member(helene, anne)

    assert invitations.send_batch(queued.pk) == 0
    assert mail.outbox == []
    assert Invitation.objects.get(batch=queued).withdrawn_at is not None
    client.force_login(helene)
    page = client.get(reverse("organisations:batch_progress", args=[queued.pk])).content.decode()
    assert 'data-testid="withdrawn-before-sending"' in page and "ne part vers personne" in page


def test_an_unconfirmed_sign_up_in_the_organisation_can_still_be_invited(client, helene):
    intrus = User.objects.create_user(
        email="anne@example.org", full_name="Anne", organisation=helene.organisation
    )
    EmailAddress.objects.create(user=intrus, email=intrus.email, verified=False, primary=True)
    checked = invitations.check_rows(
        helene.organisation, [invitations.InviteRow(line=1, email="anne@example.org")]
    )
    assert [row.email for row in checked] == ["anne@example.org"]


def test_an_outlook_recipient_list_with_commas_in_names_is_read(helene):
    rows = invitations.rows_from_text(
        "Dupont, Jean <jean.dupont@mairie.fr>; Martin, Paul <paul.martin@mairie.fr>"
    )
    assert [(r.email, r.full_name) for r in rows] == [
        ("jean.dupont@mairie.fr", "Dupont, Jean"),
        ("paul.martin@mairie.fr", "Martin, Paul"),
    ]


def test_names_quoted_as_mail_clients_quote_them_are_kept_without_their_quotes(helene):
    rows = invitations.rows_from_text(
        "'Jean Dupont' <jean.dupont@mairie.fr>; \"Dupont; Marie\" <marie@mairie.fr>; "
        "anne@example.org\n"
        '"Durand, Paul" <paul@mairie.fr>, "Léa" <lea@mairie.fr>'
    )
    assert [(r.line, r.email, r.full_name) for r in rows] == [
        (1, "jean.dupont@mairie.fr", "Jean Dupont"),
        (1, "marie@mairie.fr", "Dupont; Marie"),
        (1, "anne@example.org", ""),
        (2, "paul@mairie.fr", "Durand, Paul"),
        (2, "lea@mairie.fr", "Léa"),
    ]
    assert len(invitations.check_rows(helene.organisation, rows)) == 5  # none refused


# --- Pending invitations -------------------------------------------------------------------

PENDING_URL = "/organisation/invitations/en-attente/"


def test_the_manager_lists_the_links_not_yet_used_with_the_day_they_stop_working(
    client, helene, camille
):
    invite_and_get_link(helene, email="anne@example.org", name="Anne Durand")
    used = invite_and_get_link(helene, email=camille.email, name="")
    client.post(used)
    invite_and_get_link(helene, email="ancien@example.org")
    Invitation.objects.filter(email="ancien@example.org").update(
        sent_at=timezone.now() - Invitation.VALIDITY
    )
    queued = invitations.invite(helene, [invitations.InviteRow(line=2, email="bruno@example.org")])

    client.force_login(helene)
    response = client.get(PENDING_URL)

    rows = re.findall(r'data-invitation="(\d+)"', response.text)
    pending = Invitation.objects.filter(email__in=["anne@example.org", "bruno@example.org"])
    assert sorted(map(int, rows)) == sorted(pending.values_list("pk", flat=True))
    anne = Invitation.objects.get(email="anne@example.org")
    assert "Anne Durand" in response.text
    # The page shows the day in Paris, a day ahead of UTC from 23:00 (22:00 in summer).
    last_day = timezone.localtime(anne.sent_at + Invitation.VALIDITY)
    assert date_format(last_day, "SHORT_DATE_FORMAT") in response.text
    assert Invitation.objects.get(batch=queued).sent_at is None
    assert "en cours d'envoi" in response.text
    assert "2 invitations en attente" in response.text


def test_a_withdrawn_link_no_longer_works_and_the_address_may_be_invited_again_at_once(
    client, helene
):
    link = invite_and_get_link(helene, email="anne@exmaple.org")
    invitation = Invitation.objects.get()
    client.force_login(helene)

    response = client.post(
        reverse("organisations:withdraw_invitation", args=[invitation.pk]), follow=True
    )

    assert "anne@exmaple.org" in response.text and "retirée" in response.text
    assert 'data-invitation="' not in response.text
    client.logout()
    refused = client.post(link)
    assert refused.status_code == 410
    assert "retirée" in refused.text
    assert not User.objects.filter(email="anne@exmaple.org").exists()
    # A slip undone: the same address is not refused as « invited less than an hour ago ».
    again = invitations.invite(helene, [invitations.InviteRow(line=2, email="anne@exmaple.org")])
    assert again.total == 1


def test_withdrawing_a_queued_invitation_means_its_mail_never_goes(client, helene):
    batch = invitations.invite(helene, [invitations.InviteRow(line=2, email="anne@example.org")])
    client.force_login(helene)
    client.post(reverse("organisations:withdraw_invitation", args=[Invitation.objects.get().pk]))
    assert invitations.send_batch(batch.pk) == 0
    assert mail.outbox == []


def test_withdrawing_an_invitation_already_used_says_so_and_keeps_the_member(client, helene):
    link = invite_and_get_link(helene)
    client.post(link)
    client.force_login(helene)
    response = client.post(
        reverse("organisations:withdraw_invitation", args=[Invitation.objects.get().pk]),
        follow=True,
    )
    assert "a déjà rejoint" in response.text
    assert Invitation.objects.get().withdrawn_at is None
    assert User.objects.get(email="anne@example.org").organisation == helene.organisation


def test_withdrawing_is_a_post_and_only_the_organisations_manager_may(client, helene, marc, sophie):
    invite_and_get_link(helene)
    url = reverse("organisations:withdraw_invitation", args=[Invitation.objects.get().pk])
    client.force_login(helene)
    assert client.get(url).status_code == 405
    for person in (marc, sophie):
        client.force_login(person)
        assert client.post(url).status_code == 404
    assert client.get(PENDING_URL).status_code == 404  # Sophie manages nothing
    client.force_login(marc)  # manages another organisation: his own list, without Anne
    assert "anne@example.org" not in client.get(PENDING_URL).text
    assert Invitation.objects.get().withdrawn_at is None


def test_pending_invitations_are_found_by_part_of_the_address(client, helene):
    invite_and_get_link(helene, email="anne@mairie-a.fr")
    invite_and_get_link(helene, email="bruno@mairie-b.fr")
    client.force_login(helene)
    response = client.get(PENDING_URL, {"adresse": "MAIRIE-B"})
    assert "bruno@mairie-b.fr" in response.text and "anne@mairie-a.fr" not in response.text
    response = client.get(PENDING_URL, {"adresse": "nulle-part"})
    assert "Aucune invitation en attente" in response.text


def test_withdrawing_from_a_search_comes_back_to_the_same_search_and_page(
    client, helene, monkeypatch
):
    from learners import organisation_views

    monkeypatch.setattr(organisation_views, "INVITATIONS_PER_PAGE", 1)
    for letter in "abc":
        invite_and_get_link(helene, email=f"{letter}@mairie-b.fr")
    client.force_login(helene)
    page = client.get(PENDING_URL, {"adresse": "mairie-b", "page": 2}).text
    form = page.split('data-testid="withdraw-invitation-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="adresse" value="mairie-b"' in form and 'name="page" value="2"' in form
    action = re.search(r'action="(/organisation/invitations/en-attente/\d+/retirer/)"', page)[1]

    response = client.post(action, {"adresse": "mairie-b", "page": "2"})

    assert response["Location"] == f"{PENDING_URL}?adresse=mairie-b&page=2"
    assert Invitation.objects.filter(withdrawn_at__isnull=False).count() == 1


def test_the_agents_page_leads_to_the_pending_invitations(client, helene):
    invite_and_get_link(helene)
    client.force_login(helene)
    response = client.get(reverse("certification:organisation_dashboard"))
    assert f'href="{PENDING_URL}"' in response.text
    assert "1 invitation en attente" in response.text


def test_an_invitation_nobody_accepted_is_anonymised_a_year_after_its_link_ended(client, helene):
    first = invite_and_get_link(helene, email="jamais@mairie.fr", name="Jamais Venue")
    accepted = invite_and_get_link(helene, email="anne@example.org", name="Anne Durand")
    client.post(accepted)
    InvitationBatch.objects.update(created_at=timezone.now() - timedelta(days=396))

    assert invitations.forget_unused() == 1

    unused = Invitation.objects.exclude(accepted_at__isnull=False).get()
    assert unused.email.endswith("@erased.invalid") and not unused.full_name
    assert client.post(first).status_code == 410
    assert Invitation.objects.get(accepted_at__isnull=False).email == "anne@example.org"
    assert invitations.forget_unused() == 0  # once only
    InvitationBatch.objects.update(created_at=timezone.now() - timedelta(days=390))
    Invitation.objects.update(email="recent@mairie.fr")
    assert invitations.forget_unused() == 0  # within the year after the link ended


def test_an_invitation_sent_again_leaves_the_pending_list_once_the_other_is_accepted(
    client, helene
):
    first = invite_and_get_link(helene)
    InvitationBatch.objects.update(created_at=timezone.now() - timedelta(hours=2))
    second = invite_and_get_link(helene)  # the first mail seemed lost

    assert client.post(second).status_code == 302

    assert not Invitation.objects.pending().exists()
    client.logout()
    again = client.post(first)
    assert again.status_code == 410
    assert "Vous êtes déjà membre de « Communauté de communes du Val Test »" in (
        again.content.decode().replace("&#x27;", "'")
    )
