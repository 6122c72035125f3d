"""RGPD right of access and portability: everything the platform holds about a person.

The archive holds one JSON file with everything and one CSV per table, so that
it opens in a spreadsheet as well as in a program. It is built in memory: a
person's data is small, and nothing is written to disk. Each table costs one
or two queries, whatever the number of rows.

Apps that learners must not import (certification) add their tables through
`personal_data_requested`.
"""

import io
import json
import logging
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import SuspiciousFileOperation
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.dispatch import Signal
from django.utils import formats, timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _

from learners.assessments import feedback_visible
from learners.models import (
    AccommodationRequest,
    Attempt,
    AttemptAnswer,
    ColdSurvey,
    Enrolment,
    Feedback,
    GradingCorrection,
    Invitation,
    LedgerEntry,
    LessonProgress,
    ModuleCompletion,
    Satisfaction,
    Submission,
    TrackCompletion,
    User,
)
from learners.session_models import ActivityEvent, Attendance, Seat
from learners.sign_in_records import typed_with
from learners.spreadsheets import SpreadsheetDictWriter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Section:
    """A table another app adds to the archive: one CSV file, and a key of data.json."""

    description: str  # its line in README.txt, translated
    columns: list[str]
    rows: list[dict[str, Any]]


# Sent with `user` when an archive is built. Each receiver returns a dict of
# section name → `Section` (names are file names: no clash with those below).
# Receivers connect in their own AppConfig.ready(): learners never imports them.
personal_data_requested = Signal()

# README.txt, in the person's language: the file names stay (programs read them).
FILES = [
    ("data.json", _("everything below, in one file")),
    ("profile.json", _("your account and profile")),
    ("enrolments.csv", _("tracks and modules you enrolled in (and left)")),
    ("progress.csv", _("lessons you marked as done")),
    ("completions.csv", _("modules and tracks you completed")),
    ("ledger.csv", _("your competence ledger: each piece of evidence, who validated it, when")),
    ("validations_given.csv", _("validations you recorded as a trainer (if any)")),
    ("accommodation_requests.csv", _("accommodations you asked for and the answers (if any)")),
    (
        "attendance.csv",
        _("half-days of training sessions you signed, or were recorded present or absent"),
    ),
    ("activity.csv", _("your online activity: logins, lessons opened and done, quizzes submitted")),
    ("quiz_attempts.csv", _("your quiz and positioning attempts: when, score, result")),
    ("quiz_answers.csv", _("what you answered to each question of those attempts")),
    (
        "submissions.csv",
        _("open answers and files you sent for grading, and the trainers' grades and comments"),
    ),
    ("submissions/", _("the files themselves, named as in submissions.csv")),
    (
        "grading_corrections.csv",
        _("gradings of your work that a trainer rectified: as they were, and why"),
    ),
    ("seats.csv", _("places you took in training sessions, or waited for")),
    ("satisfaction.csv", _("your satisfaction surveys at the end of a module")),
    ("cold_surveys.csv", _("your satisfaction surveys three months after a track")),
    ("invitations.csv", _("invitations to join an organisation sent to your address")),
    ("feedback_given.csv", _("appraisals of sessions you wrote as a trainer (if any)")),
    (
        "sign_in_records.csv",
        _("sign-ins and failed sign-ins with your addresses: when, IP address, browser"),
    ),
]


def readme(others: dict[str, "Section"]) -> str:
    title = str(_("Campus Tiers-Lieux — export of your personal data"))
    files = FILES + [(f"{name}.csv", section.description) for name, section in others.items()]
    width = max(len(name) for name, _description in files) + 2
    generated = formats.date_format(timezone.localtime(), "DATETIME_FORMAT")
    return "\n".join(
        [
            title,
            "=" * len(title),
            "",
            *(f"{name.ljust(width)}{description}" for name, description in files),
            "",
            str(
                _(
                    "Column names stay in English, the same for everyone, so that programs "
                    "can read them. The CSV files are UTF-8 with a byte order mark, their "
                    "columns separated by semicolons."
                )
            ),
            str(_("Generated on %(date)s.") % {"date": generated}),
            "",
        ]
    )


def profile(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "job_title": user.job_title,
        "organisation": user.organisation.name if user.organisation else None,
        "organisation_named_at_sign_up": (
            user.proposed_organisation.name if user.proposed_organisation else None
        ),
        "is_organisation_manager": user.is_organisation_manager,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "inactivity_notice_at": user.inactivity_notice_at,
        "email_addresses": [
            {"email": a.email, "verified": a.verified, "primary": a.primary}
            for a in EmailAddress.objects.filter(user=user).order_by("email")
        ],
    }


def enrolments(user: User) -> list[dict[str, Any]]:
    return [
        {
            "kind": "track" if e.track_id else "module",
            "title": e.target.title,
            "enrolled_at": e.enrolled_at,
            "left_at": e.left_at,
        }
        for e in Enrolment.objects.filter(learner=user).select_related("track", "module")
    ]


def progress(user: User) -> list[dict[str, Any]]:
    return [
        {"lesson": p.lesson.title, "lesson_id": p.lesson_id, "done_at": p.done_at}
        for p in LessonProgress.objects.filter(learner=user).select_related("lesson")
    ]


def completions(user: User) -> list[dict[str, Any]]:
    modules = [
        {"kind": "module", "title": c.module.title, "completed_at": c.completed_at}
        for c in ModuleCompletion.objects.filter(learner=user).select_related("module")
    ]
    tracks = [
        {"kind": "track", "title": c.track.title, "completed_at": c.completed_at}
        for c in TrackCompletion.objects.filter(learner=user).select_related("track")
    ]
    return modules + tracks


def _name_of(person: User | None) -> str:
    """Someone named in the archive: their name, never their address, which display_name
    falls back to (an account with no name yet). The archive is its holder's to take
    away; another person's address is not hers to take (RGPD art. 15(4))."""
    if person is None:
        return ""
    return person.full_name.strip() or str(_("account no. %(id)s") % {"id": person.pk})


def _ledger_rows(entries) -> list[dict[str, Any]]:
    return [
        {
            "id": e.pk,
            "learner": _name_of(e.learner),
            "framework": e.competence.block.framework.code,
            "competence": e.competence.code,
            "competence_title": e.competence.title,
            "level": e.level.label,
            "level_rank": e.level.rank,
            "source": e.source,
            "validated_by": _name_of(e.validated_by),
            "source_reference": e.source_reference,
            "comment": e.comment,
            "recorded_at": e.recorded_at,
            # A retraction names the entry it withdraws, which no longer counts.
            "retracts": e.retracts_id or "",
        }
        for e in entries.select_related(
            "learner", "competence__block__framework", "level", "validated_by"
        )
    ]


def ledger(user: User) -> list[dict[str, Any]]:
    return _ledger_rows(LedgerEntry.objects.for_learner(user))


def validations_given(user: User) -> list[dict[str, Any]]:
    return _ledger_rows(LedgerEntry.objects.filter(validated_by=user))


def accommodation_requests(user: User) -> list[dict[str, Any]]:
    return [
        {
            "track": r.track.title,
            "need": r.need,
            "status": r.status,
            "answer": r.answer,
            "extra_time_percent": r.extra_time_percent,
            "note_for_trainers": r.note_for_trainers,
            "requested_at": r.created_at,
            "answered_at": r.answered_at,
        }
        for r in AccommodationRequest.objects.filter(learner=user).select_related("track")
    ]


def attendance(user: User) -> list[dict[str, Any]]:
    return [
        {
            "session": str(a.half_day.session),
            "date": a.half_day.date,
            "period": a.half_day.period,
            "status": a.status,
            "method": a.method,
            "signed_at": a.signed_at,
            "confirmed_at": a.confirmed_at,
        }
        for a in Attendance.objects.filter(learner=user).select_related("half_day__session__track")
    ]


def activity(user: User) -> list[dict[str, Any]]:
    return [
        {"kind": e.kind, "page": _title(e.page), "page_id": e.page_id, "at": e.at}
        for e in ActivityEvent.objects.filter(learner=user).select_related("page")
    ]


def sign_in_records(user: User) -> list[dict[str, Any]]:
    """What django-axes logged of sign-ins with her addresses (kept 6 months,
    learners/sign_in_records.py): the privacy page lists them among her data."""
    records = typed_with(user.own_addresses())
    rows = [
        {
            "kind": "sign_in",
            "address_typed": log.username,
            "ip_address": log.ip_address,
            "browser": log.user_agent,
            "at": log.attempt_time,
            "signed_out_at": log.logout_time,
        }
        for log in records["logs"]
    ] + [
        {
            "kind": "failed_sign_in",
            "address_typed": log.username,
            "ip_address": log.ip_address,
            "browser": log.user_agent,
            "at": log.attempt_time,
            "signed_out_at": None,
        }
        for log in records["failures"]
    ]
    return sorted(rows, key=lambda row: row["at"])


def _title(page) -> str:
    return page.title if page is not None else ""


def quiz_attempts(user: User) -> list[dict[str, Any]]:
    return [
        {
            "kind": a.kind,
            "title": _title(a.module or a.track),
            "number": a.number,
            "started_at": a.started_at,
            "submitted_at": a.submitted_at,
            "status": a.status,
            "score_percent": a.score,
            "passed": a.passed,
            "pass_mark_percent": a.pass_mark,
            "score_per_competence": a.competence_scores,
            "self_assessment": a.self_assessment,
        }
        for a in Attempt.objects.filter(learner=user)
        .select_related("module", "track")
        .defer("questions")
    ]


CHOICES = {"single_choice", "true_false", "multiple_choice", "ordering"}


def _answer_text(question: dict, answer: Any) -> str:
    """An answer as the learner saw it: the texts of the options picked, in order."""
    if answer is None:
        return ""
    if question.get("type") in CHOICES:
        labels = {
            str(choice["key"]): choice["text"]
            for choice in question.get("options", []) + question.get("items", [])
        }
        keys = answer if isinstance(answer, list) else [answer]
        return " | ".join(labels.get(str(key), str(key)) for key in keys)
    return answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)


def quiz_answers(user: User) -> list[dict[str, Any]]:
    # The frozen questions once per attempt, not once per answer.
    attempts = {
        a.pk: a for a in Attempt.objects.filter(learner=user).select_related("module", "track")
    }
    # As on the result page: which answers were right stays hidden where the quiz's
    # feedback policy hides it (a learner with attempts left would learn the key).
    passed_modules = {
        a.module_id for a in attempts.values() if a.kind == Attempt.Kind.QUIZ and a.passed
    }
    shown = {
        pk: feedback_visible(a, a.kind == Attempt.Kind.QUIZ and a.module_id in passed_modules)
        for pk, a in attempts.items()
    }
    rows = []
    for answer in AttemptAnswer.objects.filter(attempt__learner=user):
        attempt = attempts[answer.attempt_id]
        question = attempt.question(answer.question_id) or {}
        rows.append(
            {
                "attempt_kind": attempt.kind,
                "title": _title(attempt.module or attempt.track),
                "attempt_number": attempt.number,
                "question_number": answer.position + 1,
                "question": question.get("text", ""),
                "answer": _answer_text(question, answer.answer),
                "score": answer.score if shown[attempt.pk] else None,
            }
        )
    return rows


def _archived_file(submission: Submission) -> str:
    """Where the archive holds the submission's file ("" without one)."""
    if not submission.file:
        return ""
    try:
        name = get_valid_filename(submission.file_name or submission.file.name.rsplit("/", 1)[-1])
    except SuspiciousFileOperation:  # nothing usable left of the name (« () », emoji)
        name = "fichier"
    return f"submissions/{submission.pk}-{name}"


def submissions(user: User) -> list[dict[str, Any]]:
    return [
        {
            "module": s.module.title,
            "question": s.prompt,
            "competence": s.competence.code,
            "answer": s.text,
            "file": _archived_file(s),
            "file_name": s.file_name,
            "file_type": s.file_type,
            "status": s.status,
            "submitted_at": s.submitted_at,
            "graded_by": _name_of(s.graded_by),
            "graded_at": s.graded_at,
            "level": s.level.label if s.level else "",
            "trainer_comment": s.comment,
        }
        for s in Submission.objects.filter(learner=user).select_related(
            "module", "competence", "graded_by", "level"
        )
    ]


def grading_corrections(user: User) -> list[dict[str, Any]]:
    """Gradings of the person's work that a trainer rectified, as they stood before."""
    return [
        {
            "module": c.submission.module.title,
            "competence": c.submission.competence.code,
            "corrected_by": _name_of(c.corrected_by),
            "corrected_at": c.corrected_at,
            "reason": c.reason,
            "previous_status": c.previous_status,
            "previous_level": c.previous_level.label if c.previous_level else "",
            "previous_comment": c.previous_comment,
            "previous_graded_by": _name_of(c.previous_graded_by),
            "previous_graded_at": c.previous_graded_at,
        }
        for c in GradingCorrection.objects.filter(submission__learner=user).select_related(
            "submission__module",
            "submission__competence",
            "corrected_by",
            "previous_level",
            "previous_graded_by",
        )
    ]


def seats(user: User) -> list[dict[str, Any]]:
    # Not the personal sign-in link: it is a credential, and the archive may travel.
    return [
        {
            "session": str(s.session),
            "track": s.session.track.title,
            "format": s.session.format,
            "place": s.session.place_name,
            "starts_on": s.session.starts_on,
            "ends_on": s.session.ends_on,
            "status": s.status,
            "requested_at": s.requested_at,
            "confirmed_at": s.confirmed_at,
            "cancelled_at": s.cancelled_at,
        }
        for s in Seat.objects.filter(learner=user).select_related("session__track")
    ]


def satisfaction(user: User) -> list[dict[str, Any]]:
    return [
        {"module": s.module.title, "rating": s.rating, "comment": s.comment, "at": s.created_at}
        for s in Satisfaction.objects.filter(learner=user).select_related("module")
    ]


def cold_surveys(user: User) -> list[dict[str, Any]]:
    return [
        {
            "track": s.track.title,
            "session": str(s.session) if s.session else "",
            "sent_at": s.sent_at,
            "answered_at": s.answered_at,
            "rating": s.rating,
            "usefulness": s.usefulness,
            "applied": s.applied,
            "comment": s.comment,
        }
        for s in ColdSurvey.objects.filter(learner=user).select_related("track", "session__track")
    ]


def invitations(user: User) -> list[dict[str, Any]]:
    addressed = Q(accepted_by=user)
    for address in user.own_addresses():
        addressed |= Q(email__iexact=address)
    return [
        {
            "organisation": i.organisation.name,
            "email": i.email,
            "full_name": i.full_name,
            "job_title": i.job_title,
            "sent_at": i.sent_at,
            "accepted_at": i.accepted_at,
            "accepted_by_you": i.accepted_by_id == user.pk,
        }
        for i in Invitation.objects.filter(addressed).select_related("organisation")
    ]


def feedback_given(user: User) -> list[dict[str, Any]]:
    return [
        {
            "track": f.track.title,
            "session": str(f.session) if f.session else "",
            "respondent": f.respondent,
            "name": f.author_name,
            "organisation": f.organisation_name,
            "rating": f.rating,
            "strengths": f.strengths,
            "improvements": f.improvements,
            "created_at": f.created_at,
        }
        for f in Feedback.objects.filter(author=user).select_related("track", "session__track")
    ]


def other_sections(user: User) -> dict[str, Section]:
    """The tables other apps hold about `user` (certificates, for one)."""
    sections: dict[str, Section] = {}
    for _receiver, answer in personal_data_requested.send(sender=User, user=user):
        sections.update(answer or {})
    return sections


def collect(user: User, others: dict[str, Section] | None = None) -> dict[str, Any]:
    if others is None:
        others = other_sections(user)
    return {
        "profile": profile(user),
        "enrolments": enrolments(user),
        "progress": progress(user),
        "completions": completions(user),
        "ledger": ledger(user),
        "validations_given": validations_given(user),
        "accommodation_requests": accommodation_requests(user),
        "attendance": attendance(user),
        "activity": activity(user),
        "quiz_attempts": quiz_attempts(user),
        "quiz_answers": quiz_answers(user),
        "submissions": submissions(user),
        "grading_corrections": grading_corrections(user),
        "seats": seats(user),
        "satisfaction": satisfaction(user),
        "cold_surveys": cold_surveys(user),
        "invitations": invitations(user),
        "feedback_given": feedback_given(user),
        "sign_in_records": sign_in_records(user),
    } | {name: section.rows for name, section in others.items()}


def _json(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def _cell(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return value


def _csv(rows: list[dict[str, Any]], fieldnames: list[str]) -> str:
    # A byte order mark and semicolons, as the managers' export: a French spreadsheet
    # opened by a double click then reads accents and columns right.
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = SpreadsheetDictWriter(buffer, fieldnames=fieldnames, delimiter=";")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


CSV_COLUMNS = {
    "enrolments": ["kind", "title", "enrolled_at", "left_at"],
    "progress": ["lesson", "lesson_id", "done_at"],
    "completions": ["kind", "title", "completed_at"],
    "ledger": [
        "id",
        "learner",
        "framework",
        "competence",
        "competence_title",
        "level",
        "level_rank",
        "source",
        "validated_by",
        "source_reference",
        "comment",
        "recorded_at",
        "retracts",
    ],
    "accommodation_requests": [
        "track",
        "need",
        "status",
        "answer",
        "extra_time_percent",
        "note_for_trainers",
        "requested_at",
        "answered_at",
    ],
    "attendance": [
        "session",
        "date",
        "period",
        "status",
        "method",
        "signed_at",
        "confirmed_at",
    ],
    "activity": ["kind", "page", "page_id", "at"],
    "quiz_attempts": [
        "kind",
        "title",
        "number",
        "started_at",
        "submitted_at",
        "status",
        "score_percent",
        "passed",
        "pass_mark_percent",
        "score_per_competence",
        "self_assessment",
    ],
    "quiz_answers": [
        "attempt_kind",
        "title",
        "attempt_number",
        "question_number",
        "question",
        "answer",
        "score",
    ],
    "submissions": [
        "module",
        "question",
        "competence",
        "answer",
        "file",
        "file_name",
        "file_type",
        "status",
        "submitted_at",
        "graded_by",
        "graded_at",
        "level",
        "trainer_comment",
    ],
    "grading_corrections": [
        "module",
        "competence",
        "corrected_by",
        "corrected_at",
        "reason",
        "previous_status",
        "previous_level",
        "previous_comment",
        "previous_graded_by",
        "previous_graded_at",
    ],
    "seats": [
        "session",
        "track",
        "format",
        "place",
        "starts_on",
        "ends_on",
        "status",
        "requested_at",
        "confirmed_at",
        "cancelled_at",
    ],
    "satisfaction": ["module", "rating", "comment", "at"],
    "cold_surveys": [
        "track",
        "session",
        "sent_at",
        "answered_at",
        "rating",
        "usefulness",
        "applied",
        "comment",
    ],
    "invitations": [
        "organisation",
        "email",
        "full_name",
        "job_title",
        "sent_at",
        "accepted_at",
        "accepted_by_you",
    ],
    "feedback_given": [
        "track",
        "session",
        "respondent",
        "name",
        "organisation",
        "rating",
        "strengths",
        "improvements",
        "created_at",
    ],
    "sign_in_records": ["kind", "address_typed", "ip_address", "browser", "at", "signed_out_at"],
}


# Past this, the archive being written goes to a temporary file instead of memory:
# files sent for grading weigh up to 10 MB each.
SPOOLED_IN_MEMORY = 5 * 1024 * 1024


def personal_data_archive(user: User) -> tempfile.SpooledTemporaryFile:
    """The ZIP archive a person downloads from « Mes données », rewound, to be streamed."""
    others = other_sections(user)
    data = collect(user, others)
    # Returned open, rewound: the response streams it, then closes it.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOLED_IN_MEMORY)  # noqa: SIM115
    try:
        with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", readme(others))
            archive.writestr("data.json", _json(data))
            archive.writestr("profile.json", _json(data["profile"]))
            for name, columns in CSV_COLUMNS.items():
                archive.writestr(f"{name}.csv", _csv(data[name], columns))
            archive.writestr(
                "validations_given.csv", _csv(data["validations_given"], CSV_COLUMNS["ledger"])
            )
            for name, section in others.items():
                archive.writestr(f"{name}.csv", _csv(section.rows, section.columns))
            # The person's own work, not only its name (right of access and portability).
            for submission in Submission.objects.filter(learner=user).exclude(file=""):
                _add_file(archive, submission)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _add_file(archive: zipfile.ZipFile, submission: Submission) -> None:
    try:
        with (
            submission.file.open("rb") as source,
            archive.open(_archived_file(submission), "w") as target,
        ):
            shutil.copyfileobj(source, target)
    except OSError:
        # Gone from the storage: the archive still lists it, and the rest is given.
        logger.warning("Submission %s: its file could not be read for an export.", submission.pk)
