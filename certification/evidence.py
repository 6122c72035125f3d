"""The Qualiopi evidence pack of a training session: one ZIP an auditor reads without the platform.

Staff ask for it; a worker gathers the attendance sheet, the certificates of
completion and end-of-training attestations, positioning and evaluation results
and satisfaction results into a ZIP with French folder names, counting each
file for the progress bar. The pack's content is a French document whatever
the staff's language, like the certificates it holds.
"""

import datetime
import hashlib
import logging
import secrets
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import partial
from io import StringIO
from statistics import mean

import weasyprint
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify

from certification import rendering, services, tasks
from certification.models import Award, Certificate, EvidencePack
from certification.templatetags.certification_tags import KIND_HEADINGS
from courses.models import ModulePage
from courses.models.pages import Format
from learners.activity import session_activity
from learners.models import Attempt, Satisfaction, User
from learners.quality_models import ColdSurvey, Feedback, ImprovementAction
from learners.session_models import Attendance, HalfDay, Seat, TrainingSession
from learners.spreadsheets import SpreadsheetWriter

logger = logging.getLogger(__name__)

STALE_AFTER = datetime.timedelta(minutes=10)
# A large session renders dozens of PDFs; a claim older than this is a dead worker's.
BUILD_LEASE = datetime.timedelta(minutes=30)

ATTENDANCE_SHEET = "01-emargement/feuille-emargement.pdf"
ATTENDANCE_CSV = "01-emargement/presences.csv"
ACTIVITY_CSV = "01-emargement/activite-en-ligne.csv"
FOLDER_OF_KIND = {
    Award.Kind.COMPLETION: "02-certificats-de-realisation",
    Award.Kind.END_OF_TRAINING: "03-attestations-fin-de-formation",
}
RESULTS_CSV = "04-positionnement-et-evaluations/resultats.csv"
RESULTS_PDF = "04-positionnement-et-evaluations/resultats.pdf"
SATISFACTION_CSV = "05-satisfaction/satisfaction.csv"
SATISFACTION_PDF = "05-satisfaction/satisfaction.pdf"
IMPROVEMENT_CSV = "06-amelioration/actions.csv"
README = "LISEZMOI.txt"
IMPROVEMENT_COLUMNS = [
    "constat",
    "action_decidee",
    "origine",
    "statut",
    "portee",
    "enregistree_le",
    "realisee_le",
]

ATTENDANCE_COLUMNS = [
    "apprenant",
    "date",
    "demi_journee",
    "horaires",
    "a_distance",
    "statut",
    "mode_emargement",
    "signe_le",
    "confirme_par",
]
ACTIVITY_COLUMNS = [
    "apprenant",
    "temps_passe_minutes",
    "lecons_terminees",
    "evaluations_soumises",
    "premiere_connexion",
    "derniere_connexion",
]
RESULT_COLUMNS = [
    "apprenant",
    "type",
    "module_ou_parcours",
    "tentative",
    "commencee_le",
    "soumise_le",
    "statut",
    "score_pourcent",
    "seuil_pourcent",
    "reussie",
    "scores_par_competence",
]
SATISFACTION_COLUMNS = [
    "type",
    "module",
    "date",
    "note_sur_5",
    "utilite_sur_5",
    "mis_en_pratique",
    "commentaire",
    "repondant",
    "structure",
    "points_forts",
    "a_ameliorer",
]

# The words printed in the pack: document content, not interface strings.
HOT, COLD, TRAINER, FUNDER = "à chaud", "à froid", "retour formateur", "retour financeur"
PERIODS = {HalfDay.Period.MORNING: "matin", HalfDay.Period.AFTERNOON: "après-midi"}
PRESENCE = {Attendance.Status.PRESENT: "présent", Attendance.Status.ABSENT: "absent"}
METHODS = {
    Attendance.Method.CODE: "code affiché par le formateur",
    Attendance.Method.LINK: "lien personnel",
    Attendance.Method.TRAINER: "saisi par le formateur",
}
ATTEMPT_KINDS = {Attempt.Kind.POSITIONING: "positionnement", Attempt.Kind.QUIZ: "évaluation"}
ATTEMPT_STATUSES = {Attempt.Status.SUBMITTED: "soumise", Attempt.Status.EXPIRED: "temps dépassé"}
NOT_RECORDED = "non renseigné"
# As the sheet says it: a half-day over before she was given a place is no absence.
NOT_REGISTERED = "pas encore inscrit·e"
AWAITING_CONFIRMATION = "signé par lien personnel, à confirmer (non compté)"


def _presence(attendance: Attendance | None, half_day: HalfDay, seat: Seat | None) -> str:
    if attendance is None:
        placed = seat.confirmed_at if seat is not None else None
        if placed is not None and placed >= half_day.window()[1]:
            return NOT_REGISTERED
        return NOT_RECORDED
    if attendance.awaits_confirmation:  # as the sheet says it: not counted
        return AWAITING_CONFIRMATION
    return PRESENCE[attendance.status]


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("oui" if value else "non")


def _local(moment: datetime.datetime | None, pattern: str = "%d/%m/%Y %H:%M") -> str:
    return timezone.localtime(moment).strftime(pattern) if moment else ""


# --- Requesting and resuming ---------------------------------------------------------------


def request_pack(session: TrainingSession, by: User | None) -> EvidencePack:
    """A new pack of `session`, built by a worker after commit.

    A pack of the session still waiting or being built is returned instead, so
    a double click starts one build, not two.
    """
    with transaction.atomic():
        under_way = EvidencePack.objects.unfinished().filter(session=session).first()
        if under_way is not None:
            return under_way
        pack = EvidencePack.objects.create(session=session, requested_by=by)
        transaction.on_commit(partial(enqueue_build, pack.pk))
    logger.info("Evidence pack %s of session %s requested", pack.pk, session.pk)
    return pack


def rebuild_pack(pack: EvidencePack) -> EvidencePack:
    """Build a ready or failed pack again (a retry, or fresher data); the ZIP is replaced."""
    with transaction.atomic():
        reset = EvidencePack.objects.filter(
            pk=pack.pk, status__in=[EvidencePack.Status.DONE, EvidencePack.Status.FAILED]
        ).update(status=EvidencePack.Status.PENDING, error="", done=0, finished_at=None)
        if reset:
            transaction.on_commit(partial(enqueue_build, pack.pk))
    pack.refresh_from_db()
    return pack


def rebuild_without_erased(session_ids: list[int]) -> int:
    """Build again every pack of these sessions: they name a learner just erased, or hold
    a certificate that no longer names its holder (certification/retention.py).

    Inside the erasure's transaction. The ZIPs are deleted once it commits, a build
    under way loses its claim (its file is deleted, not recorded), and each pack
    waits for a fresh build, made from the anonymised rows.
    """
    # A pack already waiting for a build nobody started reads the rows as they are when
    # it starts: asking again (a retention pass removes a cohort's names one by one)
    # would only queue more builds.
    waiting = Q(status=EvidencePack.Status.PENDING, claimed_at__isnull=True)
    packs = dict(
        EvidencePack.objects.filter(session_id__in=session_ids)
        .exclude(waiting)
        .values_list("pk", "file")
    )
    EvidencePack.objects.filter(pk__in=packs).update(
        status=EvidencePack.Status.PENDING,
        error="",
        done=0,
        finished_at=None,
        claimed_at=None,
        file="",
        sha256="",
    )
    for pk, name in packs.items():
        # The ZIP naming the person goes at once, whether or not the new build succeeds.
        if name:
            transaction.on_commit(partial(default_storage.delete, name), robust=True)
        transaction.on_commit(partial(enqueue_build, pk))
    return len(packs)


def enqueue_build(pack_pk: int) -> bool:
    """Ask a worker to build the pack; on a dead broker it stays pending for `resume_stale`."""
    EvidencePack.objects.filter(pk=pack_pk).update(enqueued_at=timezone.now())
    return tasks.enqueue(tasks.build_evidence_pack, pack_pk)


def resume_stale(now: datetime.datetime | None = None) -> int:
    """Enqueue again packs never picked up (broker down) or left by a dead worker."""
    now = now or timezone.now()
    stale = EvidencePack.objects.stale(now - STALE_AFTER, now - BUILD_LEASE)
    pks = list(stale.order_by("created_at").values_list("pk", flat=True)[:100])
    for pk in pks:
        if not enqueue_build(pk):
            break  # the broker is down: the next pass tries again
    return len(pks)


# --- Building -------------------------------------------------------------------------------


class BuildOutcome(Enum):
    BUILT = "built"
    ALREADY_DONE = "already_done"
    BUSY = "busy"  # another worker holds a fresh claim on it
    FAILED = "failed"


@dataclass
class Entry:
    name: str
    produce: Callable[[], bytes]
    description: str


def build_pack(pack_pk: int) -> BuildOutcome:
    """Write the pack's ZIP, counting files as they are added; safe to run twice.

    A compare-and-swap claim keeps two workers apart and makes a redelivery of a
    finished build a no-op. Any error marks the pack failed with a message staff
    read on its page; storage errors are raised again so the task retries them.
    """
    claimed_at = timezone.now()
    claimable = Q(status__in=[EvidencePack.Status.PENDING, EvidencePack.Status.FAILED]) | Q(
        status=EvidencePack.Status.BUILDING, claimed_at__lt=claimed_at - BUILD_LEASE
    )
    claimed = (
        EvidencePack.objects.filter(pk=pack_pk)
        .filter(claimable)
        .update(status=EvidencePack.Status.BUILDING, claimed_at=claimed_at, done=0, error="")
    )
    if not claimed:
        done = EvidencePack.objects.filter(pk=pack_pk, status=EvidencePack.Status.DONE).exists()
        return BuildOutcome.ALREADY_DONE if done else BuildOutcome.BUSY
    mine = EvidencePack.objects.filter(pk=pack_pk, claimed_at=claimed_at)
    pack = EvidencePack.objects.select_related("session__track", "requested_by").get(pk=pack_pk)
    try:
        with tempfile.SpooledTemporaryFile(max_size=20 * 1024 * 1024) as spool:
            _write_zip(pack, spool, progress=lambda count: mine.update(done=count))
            spool.seek(0)
            digest = _sha256(spool)
            # A name of its own: a build that lost its claim meanwhile (a rebuild after
            # an erasure, a lease run out) never overwrites the file the pack points to.
            name = _storage_name(pack)
            saved = default_storage.save(name, File(spool, name=name))
    except Exception as error:
        logger.exception("Evidence pack %s failed", pack_pk)
        mine.update(
            status=EvidencePack.Status.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
            claimed_at=None,
        )
        if isinstance(error, OSError):
            raise  # storage or network hiccup: worth the task's bounded retries
        return BuildOutcome.FAILED
    previous = pack.file.name
    stored = mine.update(
        status=EvidencePack.Status.DONE,
        file=saved,
        sha256=digest,
        done=F("total"),
        finished_at=timezone.now(),
        claimed_at=None,
    )
    if not stored:
        # Our claim was taken (lease ran out, or reset to build afresh): ours goes.
        default_storage.delete(saved)
        return BuildOutcome.BUSY
    if previous and previous != saved:
        default_storage.delete(previous)  # the earlier build's, replaced
    logger.info("Evidence pack %s built (%s)", pack_pk, saved)
    return BuildOutcome.BUILT


def _sha256(stream) -> str:
    digest = hashlib.sha256()
    for chunk in iter(partial(stream.read, 1024 * 1024), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _storage_name(pack: EvidencePack) -> str:
    # Unguessable, like certificates' codes: with DEBUG, /media/ is served as is.
    return f"evidence-packs/{pack.created_at:%Y/%m}/{pack.session_id}-{secrets.token_hex(16)}.zip"


def _write_zip(pack: EvidencePack, stream, progress: Callable[[int], object]) -> None:
    generated_at = timezone.localtime()
    entries = plan(pack.session)
    entries.append(Entry(README, partial(_readme, pack, entries, generated_at), ""))
    EvidencePack.objects.filter(pk=pack.pk).update(total=len(entries))
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for count, entry in enumerate(entries, start=1):
            info = zipfile.ZipInfo(entry.name, date_time=generated_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, entry.produce())
            progress(count)


# --- What goes in -----------------------------------------------------------------------------


def session_learners(session: TrainingSession) -> list[User]:
    return list(
        User.objects.filter(seats__session=session, seats__status=Seat.Status.CONFIRMED).order_by(
            "full_name", "pk"
        )
    )


def _track_modules(session: TrainingSession):
    return ModulePage.objects.child_of(session.track)


def plan(session: TrainingSession) -> list[Entry]:
    """The files of the pack, in order, each with what makes it (run one at a time)."""
    learners = session_learners(session)
    entries = []
    sheet = _attendance_sheet_renderer()
    if sheet is not None:
        entries.append(
            Entry(
                ATTENDANCE_SHEET,
                partial(sheet, session),
                "feuille d'émargement signée par demi-journée",
            )
        )
    entries.append(
        Entry(
            ATTENDANCE_CSV,
            partial(attendance_csv, session, learners),
            "présences par apprenant et par demi-journée (tableur)",
        )
    )
    if session.format != Format.ON_SITE:
        # The online parts' evidence: what each learner did while the session ran.
        entries.append(
            Entry(
                ACTIVITY_CSV,
                partial(activity_csv, session, learners),
                "activité en ligne de chaque apprenant pendant la session : temps passé, "
                "leçons terminées, évaluations soumises, connexions (tableur)",
            )
        )
    for kind, folder in FOLDER_OF_KIND.items():
        used: set[str] = set()
        for certificate in _certificates(session, learners, kind):
            name = _unique(slugify(certificate.holder_name) or "titulaire", used)
            entries.append(
                Entry(
                    f"{folder}/{name}.pdf",
                    partial(certificate_pdf, certificate.pk),
                    f"{KIND_HEADINGS[kind]} — {certificate.holder_name} "
                    f"(code de vérification {certificate.code})",
                )
            )
    entries += [
        Entry(
            RESULTS_CSV,
            partial(results_csv, session, learners),
            "tests de positionnement et évaluations, une ligne par tentative (tableur)",
        ),
        Entry(
            RESULTS_PDF,
            partial(results_pdf, session, learners),
            "synthèse des positionnements et évaluations",
        ),
        Entry(
            SATISFACTION_CSV,
            partial(satisfaction_csv, session, learners),
            "réponses de satisfaction à chaud et à froid, retours formateurs et financeurs "
            "(tableur)",
        ),
        Entry(
            SATISFACTION_PDF,
            partial(satisfaction_pdf, session, learners),
            "synthèse de la satisfaction",
        ),
        Entry(
            IMPROVEMENT_CSV,
            partial(improvement_csv, session),
            "actions d'amélioration décidées pour cette session et pour son parcours "
            "(indicateur 32, tableur)",
        ),
    ]
    return entries


def improvement_rows(session: TrainingSession) -> list[dict]:
    """What was decided after the appraisals (Qualiopi 32): the session's actions, and
    those of its track that name no session."""
    actions = ImprovementAction.objects.filter(
        Q(session=session) | Q(track=session.track_id, session__isnull=True)
    ).order_by("recorded_at", "pk")
    with translation.override("fr"):  # the pack is French, whoever asked for it
        return [
            {
                "constat": action.finding,
                "action_decidee": action.action,
                "origine": action.get_source_display(),
                "statut": action.get_status_display(),
                "portee": "session" if action.session_id else "parcours",
                "enregistree_le": _local(action.recorded_at, "%d/%m/%Y"),
                "realisee_le": action.done_at.strftime("%d/%m/%Y") if action.done_at else "",
            }
            for action in actions
        ]


def improvement_csv(session: TrainingSession) -> bytes:
    return _csv(IMPROVEMENT_COLUMNS, improvement_rows(session))


def _attendance_sheet_renderer() -> Callable[[TrainingSession], bytes] | None:
    # The sheet has its own module (and its own author); until it ships, the
    # pack carries the attendance CSV alone and its LISEZMOI says so.
    try:
        from certification.attendance_sheet import render_attendance_sheet
    except ImportError:
        logger.warning("certification.attendance_sheet is missing: no attendance sheet PDF")
        return None
    return render_attendance_sheet


def _unique(name: str, used: set[str]) -> str:
    candidate, number = name, 1
    while candidate in used:
        number += 1
        candidate = f"{name}-{number}"
    used.add(candidate)
    return candidate


def _certificates(session: TrainingSession, learners: list[User], kind: str) -> list[Certificate]:
    # Not those that no longer name their holder (certification/retention.py).
    certificates = (
        Certificate.objects.valid()
        .issued_for_session(session)
        .filter(
            award__kind=kind,
            award__track_id=session.track_id,
            learner__in=learners,
            holder_removed_at__isnull=True,
        )
    )
    return sorted(certificates.select_related("award"), key=lambda c: (c.holder_name, c.pk))


def certificate_pdf(certificate_pk: int) -> bytes:
    """The stored PDF, rendered first if no worker has done it yet."""
    if services.render(certificate_pk) is services.RenderOutcome.HOLDER_REMOVED:
        # Removed since the pack's list was made: the rebuild it triggered replaces this one.
        raise services.HolderRemoved(certificate_pk)
    certificate = Certificate.objects.select_related("award").get(pk=certificate_pk)
    if not certificate.pdf:
        # Another worker holds the render: the same frozen context gives the same document.
        return rendering.render_pdf(certificate)
    with certificate.pdf.open("rb") as handle:
        return handle.read()


def _csv(columns: list[str], rows) -> bytes:
    buffer = StringIO()
    # A byte order mark and semicolons: what French spreadsheets open correctly.
    buffer.write("\ufeff")
    writer = SpreadsheetWriter(buffer, delimiter=";")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row[column] for column in columns])
    return buffer.getvalue().encode("utf-8")


def learner_labels(learners: list[User]) -> dict[int, str]:
    """How each learner is named across the pack's files: two people with the same name,
    or erased accounts (« Compte supprimé », all alike), are numbered in the session's
    order, so that no table merges them into one person."""
    names = Counter(learner.display_name for learner in learners)
    numbered: Counter = Counter()
    labels = {}
    for learner in learners:
        name = learner.display_name
        if names[name] > 1:
            numbered[name] += 1
            name = f"{name} ({numbered[name]})"
        labels[learner.pk] = name
    return labels


def attendance_rows(session: TrainingSession, learners: list[User]) -> list[dict]:
    half_days = list(session.half_days.order_by("date", "period"))
    signed = {
        (a.half_day_id, a.learner_id): a
        for a in Attendance.objects.filter(half_day__session=session).select_related(
            "confirmed_by", "half_day"
        )
    }
    seats = {
        seat.learner_id: seat
        for seat in Seat.objects.confirmed().filter(session=session, learner__in=learners)
    }
    labels = learner_labels(learners)
    rows = []
    for learner in learners:
        for half_day in half_days:
            attendance = signed.get((half_day.pk, learner.pk))
            rows.append(
                {
                    "apprenant": labels[learner.pk],
                    "date": half_day.date.strftime("%d/%m/%Y"),
                    "demi_journee": PERIODS[half_day.period],
                    "horaires": f"{half_day.starts_at:%H:%M}-{half_day.ends_at:%H:%M}",
                    "a_distance": _yes_no(half_day.online),
                    "statut": _presence(attendance, half_day, seats.get(learner.pk)),
                    "mode_emargement": METHODS[attendance.method] if attendance else "",
                    "signe_le": _local(attendance.signed_at) if attendance else "",
                    "confirme_par": (
                        attendance.confirmed_by.display_name
                        if attendance and attendance.confirmed_by
                        else ""
                    ),
                }
            )
    return rows


def attendance_csv(session: TrainingSession, learners: list[User]) -> bytes:
    return _csv(ATTENDANCE_COLUMNS, attendance_rows(session, learners))


def activity_rows(session: TrainingSession, learners: list[User]) -> list[dict]:
    labels = learner_labels(learners)
    return [
        {
            "apprenant": labels.get(row.learner.pk, row.learner.display_name),
            "temps_passe_minutes": row.summary.minutes,
            "lecons_terminees": row.summary.lessons_done,
            "evaluations_soumises": row.summary.quizzes_submitted,
            "premiere_connexion": _local(row.summary.first_connection),
            "derniere_connexion": _local(row.summary.last_connection),
        }
        for row in session_activity(session)
    ]


def activity_csv(session: TrainingSession, learners: list[User]) -> bytes:
    return _csv(ACTIVITY_COLUMNS, activity_rows(session, learners))


def result_rows(session: TrainingSession, learners: list[User]) -> list[dict]:
    attempts = (
        Attempt.objects.finished()
        .filter(learner__in=learners)
        .filter(
            Q(kind=Attempt.Kind.POSITIONING, track_id=session.track_id)
            | Q(kind=Attempt.Kind.QUIZ, module__in=_track_modules(session))
        )
        .select_related("learner", "module", "track")
        .order_by("learner__full_name", "learner_id", "kind", "module__path", "number")
    )
    labels = learner_labels(learners)
    return [
        {
            "apprenant": labels[attempt.learner_id],
            "type": ATTEMPT_KINDS[attempt.kind],
            "module_ou_parcours": (attempt.module or attempt.track).title,
            "tentative": attempt.number,
            "commencee_le": _local(attempt.started_at),
            "soumise_le": _local(attempt.submitted_at),
            "statut": ATTEMPT_STATUSES.get(attempt.status, attempt.status),
            "score_pourcent": "" if attempt.score is None else attempt.score,
            "seuil_pourcent": attempt.pass_mark,
            "reussie": _yes_no(attempt.passed),
            "scores_par_competence": " | ".join(
                f"{code} : {score}" for code, score in sorted(attempt.competence_scores.items())
            ),
        }
        for attempt in attempts
    ]


def results_csv(session: TrainingSession, learners: list[User]) -> bytes:
    return _csv(RESULT_COLUMNS, result_rows(session, learners))


def satisfaction_rows(session: TrainingSession, learners: list[User]) -> list[dict]:
    """Every answer; learners' answers carry no name: given to improve, not to judge."""
    blank = dict.fromkeys(SATISFACTION_COLUMNS, "")
    rows = []
    hot = (
        Satisfaction.objects.filter(learner__in=learners, module__in=_track_modules(session))
        .select_related("module")
        .order_by("module__path", "created_at", "pk")
    )
    for answer in hot:
        rows.append(
            blank
            | {
                "type": HOT,
                "module": answer.module.title,
                "date": _local(answer.created_at, "%d/%m/%Y"),
                "note_sur_5": answer.rating,
                "commentaire": answer.comment,
            }
        )
    for survey in cold_surveys(session, learners).answered():
        rows.append(
            blank
            | {
                "type": COLD,
                "date": _local(survey.answered_at, "%d/%m/%Y"),
                "note_sur_5": survey.rating or "",
                "utilite_sur_5": survey.usefulness or "",
                "mis_en_pratique": _yes_no(survey.applied),
                "commentaire": survey.comment,
            }
        )
    for feedback in Feedback.objects.filter(session=session).order_by("created_at", "pk"):
        rows.append(
            blank
            | {
                "type": TRAINER if feedback.respondent == Feedback.Respondent.TRAINER else FUNDER,
                "date": _local(feedback.created_at, "%d/%m/%Y"),
                "note_sur_5": feedback.rating or "",
                "repondant": feedback.author_name,
                "structure": feedback.organisation_name,
                "points_forts": feedback.strengths,
                "a_ameliorer": feedback.improvements,
            }
        )
    return rows


def cold_surveys(session: TrainingSession, learners: list[User]):
    # Surveys created before sessions existed know the track only.
    return ColdSurvey.objects.filter(
        Q(session=session)
        | Q(session__isnull=True, track_id=session.track_id, learner__in=learners)
    ).order_by("answered_at", "pk")


def satisfaction_csv(session: TrainingSession, learners: list[User]) -> bytes:
    return _csv(SATISFACTION_COLUMNS, satisfaction_rows(session, learners))


def _average(values) -> str:
    numbers = [value for value in values if value is not None]
    return f"{mean(numbers):.1f}".replace(".", ",") if numbers else "—"


def satisfaction_summary(session: TrainingSession, learners: list[User]) -> dict:
    rows = satisfaction_rows(session, learners)
    modules = []
    for module in _track_modules(session).order_by("path"):
        ratings = [
            row["note_sur_5"]
            for row in rows
            if row["type"] == HOT and row["module"] == module.title
        ]
        modules.append(
            {"title": module.title, "answers": len(ratings), "average": _average(ratings)}
        )
    cold = list(cold_surveys(session, learners))
    answered = [survey for survey in cold if survey.answered_at]
    applied = [survey.applied for survey in answered if survey.applied is not None]
    return {
        "learners": len(learners),
        "hot_modules": modules,
        "hot_average": _average(row["note_sur_5"] for row in rows if row["type"] == HOT),
        "cold": {
            "sent": sum(1 for survey in cold if survey.sent_at),
            "answered": len(answered),
            "rating": _average(survey.rating for survey in answered),
            "usefulness": _average(survey.usefulness for survey in answered),
            "applied": sum(applied),
            "applied_base": len(applied),
        },
        "comments": [row for row in rows if row["type"] in (HOT, COLD) and row["commentaire"]],
        "feedback": [row for row in rows if row["type"] in (TRAINER, FUNDER)],
    }


# --- PDFs and the LISEZMOI -----------------------------------------------------------------------


def _pdf(template: str, context: dict) -> bytes:
    # The pack is a French document whatever the staff's language.
    with translation.override("fr"):
        html = render_to_string(template, context | {"provider": settings.CAMPUS_PROVIDER_NAME})
    document = weasyprint.HTML(
        string=html,
        base_url=str(rendering.static_root()) + "/",
        url_fetcher=rendering.LocalOnlyURLFetcher(),
    )
    return document.write_pdf(pdf_variant="pdf/ua-1")


def results_pdf(session: TrainingSession, learners: list[User]) -> bytes:
    return _pdf(
        "certification/evidence/results.html",
        {"session": session, "rows": result_rows(session, learners), "learners": learners},
    )


def satisfaction_pdf(session: TrainingSession, learners: list[User]) -> bytes:
    return _pdf(
        "certification/evidence/satisfaction.html",
        {"session": session, "summary": satisfaction_summary(session, learners)},
    )


def _readme(pack: EvidencePack, entries: list[Entry], generated_at: datetime.datetime) -> bytes:
    session = pack.session
    learners = session_learners(session)
    with translation.override("fr"):
        text = render_to_string(
            "certification/evidence/lisezmoi.txt",
            {
                "session": session,
                "trainers": ", ".join(
                    t.display_name for t in session.trainers.order_by("full_name")
                ),
                "learners": learners,
                "learner_names": list(learner_labels(learners).values()),
                "entries": [entry for entry in entries if entry.name != README],
                "sheet_missing": not any(entry.name == ATTENDANCE_SHEET for entry in entries),
                "missing": _missing_certificates(session, learners),
                "generated_at": generated_at,
                "requested_by": pack.requested_by.display_name if pack.requested_by else "",
                "provider": settings.CAMPUS_PROVIDER_NAME,
                "verify_url": settings.SITE_URL + reverse("certification:verify_form"),
            },
        )
    return text.replace("\n", "\r\n").encode("utf-8")


# The pack is in French, for a French auditor, whatever the staff's language.
HELD_FOR_ANOTHER = " (délivré pour une autre session ou en autonomie, non joint)"


def _missing_certificates(session: TrainingSession, learners: list[User]) -> list[dict]:
    """Learners without a certificate of each kind for this session: an auditor asks
    before we are told. One held for another session of the track (a learner may hold
    an award once) or issued as self-paced is said, not packed: its dates and hours
    are not this session's."""
    missing = []
    labels = learner_labels(learners)
    for kind in FOLDER_OF_KIND:
        held = Certificate.objects.valid().filter(
            award__kind=kind, award__track_id=session.track_id, learner__in=learners
        )
        holders = set(held.issued_for_session(session).values_list("learner_id", flat=True))
        elsewhere = set(held.values_list("learner_id", flat=True)) - holders
        names = [
            labels[learner.pk] + (HELD_FOR_ANOTHER if learner.pk in elsewhere else "")
            for learner in learners
            if learner.pk not in holders
        ]
        if names:
            missing.append({"kind": KIND_HEADINGS[kind], "names": names})
    return missing
