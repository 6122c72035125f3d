"""RGPD right of access and portability: everything the platform holds about a person.

The archive holds one JSON file with everything and one CSV per table, so that
it opens in a spreadsheet as well as in a program. It is built in memory: a
person's data is small, and nothing is written to disk.
"""

import io
import json
import zipfile
from typing import Any

from allauth.account.models import EmailAddress
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from learners.models import (
    AccommodationRequest,
    Enrolment,
    LedgerEntry,
    LessonProgress,
    ModuleCompletion,
    TrackCompletion,
    User,
)
from learners.session_models import ActivityEvent, Attendance
from learners.spreadsheets import SpreadsheetDictWriter

README = """Campus Tiers-Lieux — export of your personal data
==================================================

data.json         everything below, in one file
profile.json      your account and profile
enrolments.csv    tracks and modules you enrolled in (and left)
progress.csv      lessons you marked as done
completions.csv   modules and tracks you completed
ledger.csv        your competence ledger: each piece of evidence, who validated it, when
validations_given.csv  validations you recorded as a trainer (if any)
accommodation_requests.csv  accommodations you asked for and the answers (if any)
attendance.csv    half-days of training sessions you signed, or were recorded present or absent
activity.csv      your online activity: logins, lessons opened and done, quizzes submitted

Generated on {generated}.
"""


def profile(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "job_title": user.job_title,
        "organisation": user.organisation.name if user.organisation else None,
        "is_organisation_manager": user.is_organisation_manager,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
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


def _ledger_rows(entries) -> list[dict[str, Any]]:
    return [
        {
            "learner": e.learner.display_name,
            "framework": e.competence.block.framework.code,
            "competence": e.competence.code,
            "competence_title": e.competence.title,
            "level": e.level.label,
            "level_rank": e.level.rank,
            "source": e.source,
            "validated_by": e.validated_by.display_name if e.validated_by else "",
            "source_reference": e.source_reference,
            "comment": e.comment,
            "recorded_at": e.recorded_at,
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
        {"kind": e.kind, "page_id": e.page_id, "at": e.at}
        for e in ActivityEvent.objects.filter(learner=user)
    ]


def collect(user: User) -> dict[str, Any]:
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
    }


def _json(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def _csv(rows: list[dict[str, Any]], fieldnames: list[str]) -> str:
    buffer = io.StringIO()
    writer = SpreadsheetDictWriter(buffer, fieldnames=fieldnames)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}
        )
    return buffer.getvalue()


CSV_COLUMNS = {
    "enrolments": ["kind", "title", "enrolled_at", "left_at"],
    "progress": ["lesson", "lesson_id", "done_at"],
    "completions": ["kind", "title", "completed_at"],
    "ledger": [
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
    ],
    "accommodation_requests": [
        "track",
        "need",
        "status",
        "answer",
        "extra_time_percent",
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
    "activity": ["kind", "page_id", "at"],
}


def personal_data_zip(user: User) -> bytes:
    """The ZIP archive a person downloads from « Mes données »."""
    data = collect(user)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt", README.format(generated=timezone.now().isoformat(timespec="seconds"))
        )
        archive.writestr("data.json", _json(data))
        archive.writestr("profile.json", _json(data["profile"]))
        for name, columns in CSV_COLUMNS.items():
            archive.writestr(f"{name}.csv", _csv(data[name], columns))
        archive.writestr(
            "validations_given.csv", _csv(data["validations_given"], CSV_COLUMNS["ledger"])
        )
    return buffer.getvalue()
