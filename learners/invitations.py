"""Invitations of agents by their organisation's manager: read a list, send, accept.

A list is checked whole before anything is stored: one bad line refuses the
upload and every bad line is reported with its number, so the manager fixes
the file once and nothing is half-imported.
"""

import csv
import io
import logging
import re
import smtplib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import getaddresses
from functools import partial

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from learners.account_sessions import AccountSession
from learners.models import ERASED_DOMAIN, Invitation, InvitationBatch, Organisation, User

logger = logging.getLogger(__name__)

MAX_ROWS = 2000
MAX_UPLOAD_BYTES = 1_000_000
# Headers as French spreadsheets often name them, mapped to ours.
HEADER_ALIASES = {
    "email": "email",
    "e-mail": "email",
    "courriel": "email",
    "mail": "email",
    "adresse e-mail": "email",
    "adresse mail": "email",
    "adresse email": "email",
    "adresse électronique": "email",
    "adresse de courriel": "email",
    "full_name": "full_name",
    "nom": "full_name",
    "nom complet": "full_name",
    # A first name column is put before the name: « Prénom ; Nom » makes one name.
    "prénom": "first_name",
    "prenom": "first_name",
    "job_title": "job_title",
    "fonction": "job_title",
    "poste": "job_title",
}
NAME_MAX = 150
# « Dupont, Jean <jean.dupont@mairie.fr> », as mail clients copy a recipient.
NAMED_ADDRESS = re.compile(r"^(?P<name>[^<>]*)<(?P<address>[^<>]+)>$")
# Within this time, an address invited and not yet accepted is not invited again.
REINVITE_AFTER = timedelta(hours=1)
# The invitation's and the account's column: validate_email alone accepts 320.
EMAIL_MAX = 254


@dataclass(frozen=True)
class InviteRow:
    line: int
    email: str
    full_name: str = ""
    job_title: str = ""
    problem: str = ""  # a line whose shape is wrong, reported with the others


@dataclass(frozen=True)
class LineError:
    line: int  # 0 when the problem is the file as a whole
    message: str


class InvitationListRefused(Exception):
    """The list has errors; nothing was stored. `errors` says where and why."""

    def __init__(self, errors: list[LineError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.line}: {e.message}" for e in errors))


class InvitationRefused(Exception):
    """An invitation link that cannot be used: `str(error)` is the message to show."""


# --- Reading a list ------------------------------------------------------------------


def clean_address(typed: str) -> str:
    """An address as pasted, without the invisible characters copied with it from a page
    or a PDF (soft hyphens, zero-width spaces), which mail servers drop but which would
    make it another account's address here; lower case."""
    text = unicodedata.normalize("NFC", typed)
    return "".join(char for char in text if unicodedata.category(char) != "Cf").strip().lower()


def _header_name(title: str) -> str:
    # A title typed on a Mac may come with its accents apart (« e » + « ́ »).
    name = unicodedata.normalize("NFC", title).lower()
    return HEADER_ALIASES.get(name, name)


def rows_from_text(text: str) -> list[InviteRow]:
    """Addresses one per line, or several on a line separated by commas or semicolons,
    as pasted from a spreadsheet column or a mail client's recipients
    (« Jean Dupont <jean.dupont@mairie.fr>; … », whose names are kept). Lines with
    tabs are rows pasted from a spreadsheet: address, name and job title in any order,
    or in the order of a line of titles pasted with them."""
    rows = []
    # The titles of pasted cells, once a line of them was pasted: the rows below are
    # read by them (« Courriel | Nom | Prénom »), as a CSV file's are.
    titles: list[str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if "\t" in raw:
            if not raw.strip():
                continue  # an empty row of the range copied
            if (pasted_titles := _pasted_titles(raw)) is not None:
                titles = pasted_titles
            else:
                rows.append(_pasted_cells(number, raw, titles))
            continue
        # Outlook separates recipients with « ; » and writes « Dupont, Jean <…> »: a
        # line with semicolons is split on them first, each piece read on its own.
        for piece in _outside_quotes(raw, ";"):
            line = piece.strip().strip(",").strip()
            if not line:
                continue
            # One « Name <address> »: its name may hold a comma. Otherwise a list.
            named = NAMED_ADDRESS.match(line) if line.count("<") == 1 else None
            parsed = [(named["name"], named["address"])] if named else getaddresses([line])
            # The parser glues words to an address (« jean@mairie.fr Dupont » reads as
            # « jean@mairie.frdupont »): an address is only one the line spells out.
            if parsed and all(
                "@" in address and address.strip().lower() in line.lower()
                for _name, address in parsed
            ):
                rows.extend(
                    InviteRow(line=number, email=address.strip(), full_name=_unquoted(name))
                    for name, address in parsed
                )
            else:
                # Not read as addresses: each piece as typed, for check_rows to name.
                rows.extend(
                    InviteRow(line=number, email=part.strip())
                    for part in line.split(",")
                    if part.strip()
                )
    return rows


def _pasted_titles(raw: str) -> list[str] | None:
    """The columns a pasted line of titles names, by position (« » for an empty cell);
    None for a line of anything else."""
    cells = [cell.strip() for cell in raw.split("\t")]
    names = [_header_name(cell) if cell else "" for cell in cells]
    known = set(HEADER_ALIASES.values())
    if any(names) and all(name in known for name in names if name):
        return names
    return None


def _pasted_cells(number: int, raw: str, titles: list[str] | None = None) -> InviteRow:
    """One row of cells copied from a spreadsheet, read by the titles pasted above it
    when its address stands in their address column; otherwise the cell with an « @ »
    is the address, the others the name then the job title."""
    if titles is not None and "email" in titles:
        cells = raw.split("\t")
        position = titles.index("email")
        if position < len(cells) and "@" in cells[position]:
            return _titled_cells(number, cells, titles)
    cells = [cell.strip() for cell in raw.split("\t") if cell.strip()]
    addresses = [cell for cell in cells if "@" in cell]
    others = [cell for cell in cells if "@" not in cell]
    if len(addresses) != 1:
        problem = _(
            "Pasted cells: give one email address per row, with the name and the job "
            "title beside it if you wish (%(count)s addresses found)."
        ) % {"count": len(addresses)}
        return InviteRow(line=number, email="", problem=problem)
    if len(others) > 2:
        problem = _(
            "Pasted cells: %(count)s cells besides the address; keep the name and the job "
            "title only."
        ) % {"count": len(others)}
        return InviteRow(line=number, email="", problem=problem)
    full_name, job_title = (others + ["", ""])[:2]
    return InviteRow(line=number, email=addresses[0], full_name=full_name, job_title=job_title)


def _titled_cells(number: int, cells: list[str], titles: list[str]) -> InviteRow:
    cells = [cell.strip() for cell in cells]
    if any(cells[len(titles) :]):
        problem = _("Pasted cells: %(count)s cells for %(titles)s titled columns.") % {
            "count": len(cells),
            "titles": len(titles),
        }
        return InviteRow(line=number, email="", problem=problem)
    values = {name: cell for name, cell in zip(titles, cells, strict=False) if name}
    # « Prénom » and « Nom » make one name, as in a CSV file.
    name = " ".join(part for part in (values.get("first_name"), values.get("full_name")) if part)
    return InviteRow(
        line=number,
        email=values.get("email", ""),
        full_name=name,
        job_title=values.get("job_title", ""),
    )


def _outside_quotes(text: str, separator: str) -> list[str]:
    """`text` split on `separator` where it stands outside double quotes: a quoted
    name (« "Dupont; Jean" <…> ») keeps what it holds."""
    pieces, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


def _unquoted(name: str) -> str:
    # Outlook quotes names with single quotes (« 'Jean Dupont' <…> »), others with double.
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
        name = name[1:-1].strip()
    return name


def _decode(data: bytes) -> str:
    try:
        # utf-8-sig drops the byte order mark spreadsheets put in front.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvitationListRefused(
            [LineError(0, _("The file is not in UTF-8: save it as « CSV UTF-8 » and try again."))]
        ) from error
    if "\x00" in text:
        # A spreadsheet's binary format, not text: the database would refuse it later.
        raise InvitationListRefused(
            [LineError(0, _("The file is not a text CSV: save it as « CSV UTF-8 » and try again."))]
        )
    return text


def rows_from_csv(data: bytes) -> list[InviteRow]:
    """Rows of a CSV with a header line: email, full_name (optional), job_title (optional).

    Commas or semicolons. Raises `InvitationListRefused` for problems with the
    file as a whole (encoding, header); a line with the wrong number of cells
    comes back with its `problem`, so that `check_rows` reports it with the rest.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvitationListRefused([LineError(0, _("The file is too large (1 MB at most)."))])
    text = _decode(data)
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise InvitationListRefused([LineError(0, _("The file is empty."))])
    first = next(line for line in lines if line.strip())
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    errors: list[LineError] = []
    header: list[str] | None = None
    rows: list[InviteRow] = []
    try:
        numbered = [(reader.line_num, cells) for cells in reader]
    except csv.Error as error:  # a cell past the csv module's limit, a stray quote
        raise InvitationListRefused(
            [
                LineError(
                    reader.line_num,
                    _("This line cannot be read: a cell is too long or badly quoted."),
                )
            ]
        ) from error
    for number, cells in numbered:
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            written = [cell.strip() for cell in cells]
            # Spreadsheets export the empty columns after the last title too.
            while written and not written[-1]:
                written.pop()
            header = [_header_name(name) for name in written]
            if delimiter == "," and "\t" in first and len(header) == 1:
                tabs = _("Separate the columns with semicolons or commas, not tabs.")
                raise InvitationListRefused([LineError(number, tabs)])
            untitled = [str(position) for position, name in enumerate(header, 1) if not name]
            unknown = [name for name in header if name and name not in HEADER_ALIASES.values()]
            repeated = {
                field: [title for title, name in zip(written, header, strict=True) if name == field]
                for field in sorted(set(HEADER_ALIASES.values()))
                if header.count(field) > 1
            }
            if "email" not in header:
                errors.append(LineError(number, _("Missing column: email.")))
            if untitled:
                errors.append(
                    LineError(
                        number,
                        _("Columns without a title: %(positions)s (give each a title).")
                        % {"positions": ", ".join(untitled)},
                    )
                )
            for titles in repeated.values():
                # Both would be read, and one would silently lose its cells.
                errors.append(
                    LineError(
                        number,
                        _("These columns say the same thing: %(names)s. Keep one.")
                        % {"names": ", ".join(titles)},
                    )
                )
            if unknown:
                errors.append(
                    LineError(
                        number,
                        _(
                            "Unknown column: %(names)s (expected courriel, nom, prénom, "
                            "fonction, or email, full_name, job_title)."
                        )
                        % {"names": ", ".join(unknown)},
                    )
                )
            if errors:
                raise InvitationListRefused(errors)
            continue
        # Spreadsheets leave out a row's empty cells at its end: only the
        # address is required, the name and the job title may be missing.
        if len(cells) <= header.index("email") or not cells[header.index("email")].strip():
            problem = _("Missing email address (column « %(name)s »).") % {
                "name": written[header.index("email")]
            }
            rows.append(InviteRow(line=number, email="", problem=problem))
            continue
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            problem = _("Too many columns: %(count)s.") % {"count": len(cells)}
            rows.append(InviteRow(line=number, email="", problem=problem))
            continue
        values = dict(zip(header, (cell.strip() for cell in cells), strict=False))
        parts = (values.get("first_name"), values.get("full_name"))
        name = " ".join(part for part in parts if part)
        rows.append(
            InviteRow(
                line=number,
                email=values.get("email", ""),
                full_name=name,
                job_title=values.get("job_title", ""),
            )
        )
    if header is None:
        raise InvitationListRefused([LineError(0, _("The file is empty."))])
    return rows


def check_rows(organisation: Organisation, rows: list[InviteRow]) -> list[InviteRow]:
    """Normalise and check every row; raises `InvitationListRefused` listing every bad line."""
    if not rows:
        raise InvitationListRefused([LineError(0, _("Give at least one email address."))])
    if len(rows) > MAX_ROWS:
        raise InvitationListRefused(
            [LineError(0, _("At most %(max)s invitations at once.") % {"max": MAX_ROWS})]
        )
    addresses = [clean_address(row.email) for row in rows]
    # Each address's account as accepting its link will find it (`invitee`).
    owners = _invitees(addresses)
    # Members as the manager sees them (organisations.members_of): an account whose
    # address was never confirmed is nobody's member yet, and may be invited.
    members = {
        address
        for address, owner in owners.items()
        if owner.organisation_id == organisation.pk
        and owner.is_active
        and owner.erased_at is None
        and owner.has_confirmed_address
    }
    # A closed account's link would be refused when clicked (« This account is
    # closed »): the manager learns it now, not from the agent weeks later.
    closed = {address for address, owner in owners.items() if not owner.is_active}
    # A list sent twice (a double click, a manager who forgot) would mail every
    # address twice: an address invited in the last hour, not yet accepted, is
    # refused again. Only the last hour: an invitation lost to a spam folder must
    # be sendable again the next day, not in a month when it expires.
    invited = set(
        Invitation.objects.filter(
            organisation=organisation,
            email__in=addresses,
            accepted_at__isnull=True,
            # A withdrawn invitation (a manager's slip undone) may be sent again at once.
            withdrawn_at__isnull=True,
            # One the mail server refused reached nobody: it may be sent again at once.
            undelivered_at__isnull=True,
            batch__created_at__gte=timezone.now() - REINVITE_AFTER,
        ).values_list("email", flat=True)
    )
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    checked: list[InviteRow] = []
    for row in rows:
        email = clean_address(row.email)
        if row.problem:
            errors.append(LineError(row.line, row.problem))
            continue
        if not email:
            errors.append(LineError(row.line, _("Missing email address.")))
            continue
        if len(email) > EMAIL_MAX:
            errors.append(
                LineError(
                    row.line,
                    _("Email address too long (%(max)s characters at most).") % {"max": EMAIL_MAX},
                )
            )
            continue
        try:
            validate_email(email)
            # A domain the mail can not be addressed to would fail at sending only.
            email.rsplit("@", 1)[1].encode("idna")
        except (ValidationError, UnicodeError):
            errors.append(
                LineError(row.line, _("Invalid email address: « %(email)s ».") % {"email": email})
            )
            continue
        if email in seen:
            errors.append(
                LineError(
                    row.line,
                    _("Duplicate of line %(line)s: « %(email)s ».")
                    % {"line": seen[email], "email": email},
                )
            )
            continue
        seen[email] = row.line
        if email in closed:
            errors.append(
                LineError(
                    row.line,
                    _(
                        "« %(email)s » belongs to a closed account: it cannot be invited. "
                        "Its holder may write to the platform's team to reopen it."
                    )
                    % {"email": email},
                )
            )
            continue
        if email in members:
            errors.append(
                LineError(
                    row.line,
                    _("« %(email)s » is already a member of the organisation.") % {"email": email},
                )
            )
            continue
        if email in invited:
            errors.append(
                LineError(
                    row.line,
                    _(
                        "« %(email)s » was invited less than an hour ago: remove this line, "
                        "or send it again later if the mail was lost."
                    )
                    % {"email": email},
                )
            )
            continue
        if len(row.full_name) > NAME_MAX or len(row.job_title) > NAME_MAX:
            errors.append(
                LineError(
                    row.line,
                    _("Name or job title too long (%(max)s characters at most).")
                    % {"max": NAME_MAX},
                )
            )
            continue
        checked.append(InviteRow(row.line, email, row.full_name, row.job_title))
    if errors:
        raise InvitationListRefused(errors)
    return checked


# --- Creating and sending -------------------------------------------------------------


def invite(manager: User, rows: list[InviteRow]) -> InvitationBatch:
    """Store the invitations of a checked list as one batch and send them in a task.

    Raises `InvitationListRefused` (nothing stored) when any line is bad.
    """
    organisation = manager.organisation
    if organisation is None or not manager.is_organisation_manager:
        raise PermissionError("Only an organisation's manager invites agents to it.")
    with transaction.atomic():
        # One list at a time per organisation: two sends of the same list (a double
        # click) would both check before either stored, and both mail everyone.
        list(Organisation.objects.select_for_update().filter(pk=organisation.pk).values("pk"))
        checked = check_rows(organisation, rows)
        batch = InvitationBatch.objects.create(
            organisation=organisation, invited_by=manager, total=len(checked)
        )
        Invitation.objects.bulk_create(
            Invitation(
                batch=batch,
                organisation=organisation,
                email=row.email,
                full_name=row.full_name,
                job_title=row.job_title,
            )
            for row in checked
        )
        transaction.on_commit(partial(enqueue_sending, batch.pk))
    return batch


def enqueue_sending(batch_pk: int) -> bool:
    """Publish the sending task, or log and leave the batch pending when the broker is down."""
    from config import broker
    from learners.tasks import ENQUEUE_ERRORS, send_invitations

    try:
        # As every publish: a broker that just failed is not waited for again.
        broker.publish(send_invitations, lambda: send_invitations.delay(batch_pk), ENQUEUE_ERRORS)
    except Exception:  # noqa: BLE001 - any broker failure leaves the batch pending
        logger.exception("Could not enqueue the sending of invitation batch %s", batch_pk)
        return False
    return True


# How long the address and name of someone who never joined are kept after their
# invitation could last be used: enough to answer « did you invite me? ».
UNUSED_KEPT = timedelta(days=365)


def forget_unused(now: datetime | None = None, limit: int = 1000) -> int:
    """Anonymise the invitations nobody accepted, a year after they last worked.

    The rows stay (how many an organisation invited); the address, name, job title
    and link go, as on erasure. Returns how many were anonymised this run.
    """
    cutoff = (now or timezone.now()) - Invitation.VALIDITY - UNUSED_KEPT
    unused = (
        Invitation.objects.filter(accepted_at__isnull=True, batch__created_at__lt=cutoff)
        .exclude(email__endswith=ERASED_DOMAIN)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    return Invitation.objects.filter(pk__in=list(unused)).anonymise()


# The sending task is enqueued on commit and starts within seconds when a worker
# runs: a batch still waiting after this long has lost its task (broker down at
# upload, worker killed mid-batch).
STALE_AFTER = timedelta(minutes=10)


def resume_stale_batches(now: datetime | None = None, limit: int = 500) -> int:
    """Enqueue again the sending of batches stuck for ten minutes; returns how many.

    Stuck means pending since then, or being sent with no mail gone since then.
    `send_batch` claims each invitation before mailing it, so a batch dispatched
    twice still sends each mail once.
    """
    cutoff = (now or timezone.now()) - STALE_AFTER
    mailed_lately = Invitation.objects.filter(batch=OuterRef("pk"), sent_at__gte=cutoff)
    stuck = list(
        InvitationBatch.objects.filter(
            status__in=[InvitationBatch.Status.PENDING, InvitationBatch.Status.SENDING],
            created_at__lt=cutoff,
        )
        .exclude(Exists(mailed_lately))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    resumed = 0
    for batch_pk in stuck:
        if not enqueue_sending(batch_pk):
            break  # the broker is still down: the next run tries again
        resumed += 1
    if resumed:
        logger.warning("Enqueued again the sending of %d stuck invitation batches", resumed)
    return resumed


def invitation_url(invitation: Invitation) -> str:
    path = reverse("organisations:accept_invitation", args=[invitation.token])
    # Sent from a task, with no request at hand: the public address comes from settings.
    return f"{settings.SITE_URL}{path}"


def _send_one(invitation: Invitation) -> None:
    # A worker has no request to take the language from: mails go in the site's.
    with translation.override(settings.LANGUAGE_CODE):
        _compose_and_send(invitation)


def _compose_and_send(invitation: Invitation) -> None:
    context = {
        "invitation": invitation,
        "organisation": invitation.organisation,
        "inviter": invitation.batch.invited_by,
        "url": invitation_url(invitation),
        "validity_days": Invitation.VALIDITY.days,
    }
    send_mail(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
        + _("Invitation to join %(organisation)s on Campus Tiers-Lieux")
        % {"organisation": invitation.organisation.name},
        message=render_to_string("learners/organisation/invitation_email.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def send_batch(batch_pk: int) -> int:
    """Send every unsent invitation of the batch; returns how many this call sent.

    Each invitation is claimed by a compare-and-swap on `sent_at` before its
    mail goes, so a redelivered task sends no mail twice; a mail that fails
    releases its claim and the error propagates for the task to retry (after
    the others, when only its recipient was refused for now).
    """
    InvitationBatch.objects.filter(pk=batch_pk, status=InvitationBatch.Status.PENDING).update(
        status=InvitationBatch.Status.SENDING
    )
    sent = 0
    # A mailbox refusing for now (full, greylisting: a 4xx for that recipient) holds back
    # only its own mail: the others go, and its error is raised at the end for the task
    # to retry. A server that fails as a whole stops the batch at once, as before.
    postponed: Exception | None = None
    unsent = Invitation.objects.filter(
        batch_id=batch_pk,
        sent_at__isnull=True,
        withdrawn_at__isnull=True,
        undelivered_at__isnull=True,
    )
    for invitation in unsent.select_related("organisation", "batch__invited_by").iterator():
        claimed = unsent.filter(pk=invitation.pk).update(sent_at=timezone.now())
        if not claimed:
            continue
        try:
            _send_one(invitation)
        except Exception as error:
            refusal = _refused_for_good(error)
            Invitation.objects.filter(pk=invitation.pk).update(
                sent_at=None,
                undelivered_at=timezone.now() if refusal else None,
                undelivered_reason=refusal[:255],
            )
            if refusal:
                # Retrying would fail the same way, and first: the others go on.
                logger.warning("Invitation %s refused for good: %s", invitation.pk, refusal)
                continue
            if not isinstance(error, smtplib.SMTPRecipientsRefused):
                raise  # the server itself (down, disconnected): the others would fail too
            logger.warning("Invitation %s not sent, to retry: %r", invitation.pk, error)
            postponed = postponed or error
            continue
        sent += 1
        _recount(batch_pk)
    _recount(batch_pk)
    if postponed is not None:
        raise postponed
    InvitationBatch.objects.filter(pk=batch_pk).exclude(status=InvitationBatch.Status.DONE).update(
        status=InvitationBatch.Status.DONE, finished_at=timezone.now()
    )
    return sent


def _refused_for_good(error: Exception) -> str:
    """The mail server's answer when it refused the address itself (a 5xx), else ""."""
    if isinstance(error, UnicodeError):
        # Checked when the list was read; an older invitation may still hold one.
        return _("This address cannot be written in a mail: check it.")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = [
            f"{code} {message.decode(errors='replace') if isinstance(message, bytes) else message}"
            for code, message in error.recipients.values()
            if code >= 500
        ]
        return "; ".join(answers)
    return ""


def _recount(batch_pk: int) -> None:
    count = Invitation.objects.filter(batch_id=batch_pk, sent_at__isnull=False).count()
    InvitationBatch.objects.filter(pk=batch_pk).update(sent=count)


def withdraw(invitation: Invitation) -> bool:
    """End an invitation's link (a mistyped address, someone who left before joining).

    False when it was accepted or withdrawn meanwhile: an agent who joined is
    removed from the members' list instead. A queued invitation is not mailed.
    """
    return bool(
        Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, withdrawn_at__isnull=True
        ).update(withdrawn_at=timezone.now())
    )


# --- Accepting ------------------------------------------------------------------------


def usable_invitation(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("organisation").filter(token=token).first()
        if token
        else None
    )
    if invitation is None or invitation.sent_at is None:
        raise InvitationRefused(_("This invitation link is not valid."))
    if invitation.accepted_at is not None:
        raise InvitationRefused(
            _("This invitation has already been used: log in with a code sent to your address.")
        )
    if invitation.withdrawn_at is not None and _already_member(invitation):
        raise InvitationRefused(
            _(
                "You are already a member of « %(organisation)s »: log in with a code sent "
                "to your address."
            )
            % {"organisation": invitation.organisation.name}
        )
    if invitation.withdrawn_at is not None:
        raise InvitationRefused(
            _(
                "This invitation was withdrawn by the organisation's manager, or when you left "
                "the organisation: ask its manager for a new one."
            )
        )
    if invitation.sent_at <= timezone.now() - Invitation.VALIDITY:
        raise InvitationRefused(
            _("This invitation has expired: ask your organisation's manager for a new one.")
        )
    return invitation


def _secure_unproven_account(user: User, email: str) -> None:
    """The link proves the address is the clicker's. If the account signing in with it
    never confirmed it, whoever created the account may not be the clicker: its
    password goes and its other sign-ins end before the clicker is let in (she sets
    a password of her own, or signs in by code)."""
    addresses = EmailAddress.objects.filter(user=user, email__iexact=email)
    if addresses.filter(verified=True).exists() or not addresses.exists():
        return
    user.set_unusable_password()
    user.save(update_fields=["password"])
    AccountSession.objects.filter(account=user).delete()


def _invitees(addresses: list[str]) -> dict[str, User]:
    """`invitee` for many lowercased addresses in two queries: address → its account,
    annotated `has_confirmed_address`; addresses no account has are left out."""
    confirmed = EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
    accounts = User.objects.annotate(has_confirmed_address=Exists(confirmed))
    owners: dict[str, int] = {}
    for address, user_id in (
        EmailAddress.objects.annotate(address=Lower("email"))
        .filter(address__in=addresses, verified=True)
        .order_by("pk")
        .values_list("address", "user_id")
    ):
        owners.setdefault(address, user_id)
    by_pk = accounts.in_bulk(set(owners.values()))
    found = {address: by_pk[pk] for address, pk in owners.items() if pk in by_pk}
    unconfirmed = [address for address in addresses if address not in found]
    for account in (
        accounts.annotate(address=Lower("email")).filter(address__in=unconfirmed).order_by("pk")
    ):
        found.setdefault(account.address, account)
    return found


def _already_member(invitation: Invitation) -> bool:
    person = invitee(invitation.email)
    return person is not None and person.organisation_id == invitation.organisation_id


def invitee(email: str) -> User | None:
    """The account an invitation to `email` belongs to: the one that confirmed the
    address, or else the one signing in with it; None for a newcomer.

    Confirmed first: an account may sign in with an address it never confirmed
    that another account did (created before sign-up refused such addresses),
    and the link must not hand the address to the one that cannot prove it."""
    address = (
        EmailAddress.objects.filter(email__iexact=email, verified=True)
        .select_related("user")
        .first()
    )
    if address is not None:
        return address.user
    return User.objects.filter(email__iexact=email).first()


def _account_for_newcomer(invitation: Invitation) -> tuple[User, bool]:
    """The account of an address no account had: created, or the one another
    invitation to the same address created at the same instant (then False)."""
    # Someone may have added this address to their account without confirming
    # it: the link proves it belongs to whoever clicked, not to them.
    EmailAddress.objects.filter(email__iexact=invitation.email, verified=False).delete()
    try:
        with transaction.atomic():  # a savepoint: the acceptance goes on if it fails
            user = User.objects.create_user(
                email=invitation.email,
                full_name=invitation.full_name,
                job_title=invitation.job_title,
                role=User.Role.PUBLIC_AGENT,
                organisation=invitation.organisation,
            )
        return user, True
    except IntegrityError:
        # Two organisations invited her and she clicked both links at once: the other
        # acceptance committed her account first, and this one joins it.
        user = invitee(invitation.email)
        if user is None:
            raise
        return user, False


@transaction.atomic
def accept(token: str) -> User:
    """Join the invitation's organisation, creating the account if needed; returns the user.

    The address counts as verified: the link reached it. Usable once.
    """
    invitation = usable_invitation(token)
    # Lock the row: two clicks on the same link must not create two accounts.
    list(Invitation.objects.select_for_update().filter(pk=invitation.pk).values("pk"))
    # Checked again under the lock: used or withdrawn meanwhile, it is refused.
    invitation = usable_invitation(token)
    user = invitee(invitation.email)
    created = False
    if user is None:
        user, created = _account_for_newcomer(invitation)
    if not created:
        if not user.is_active:
            raise InvitationRefused(_("This account is closed."))
        _secure_unproven_account(user, invitation.email)
        # What the manager typed names an account that had no name: the list of
        # agents shows names, never the account's own (maybe personal) address.
        if not user.full_name and invitation.full_name:
            user.full_name = invitation.full_name
            user.save(update_fields=["full_name"])
    if user.organisation_id != invitation.organisation_id or user.proposed_organisation_id:
        # Managing belongs to one organisation: joining another ends it. The one a
        # sign-up named is no question any more: she chose by clicking the link.
        user.organisation = invitation.organisation
        user.proposed_organisation = None
        user.is_organisation_manager = False
        user.save(
            update_fields=["organisation", "proposed_organisation", "is_organisation_manager"]
        )
    address = EmailAddress.objects.filter(user=user, email__iexact=invitation.email).first()
    if address is None:
        EmailAddress.objects.create(
            user=user,
            email=invitation.email,
            verified=True,
            primary=not user.emailaddress_set.exists(),
        )
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    # An earlier invitation to the same address (sent again when the first seemed lost)
    # has nothing left to do: it leaves the manager's list of invitations pending.
    Invitation.objects.withdraw_for(invitation.organisation_id, [invitation.email])
    return user
