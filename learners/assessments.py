"""Operations on assessments: quiz attempts, positioning tests, grading, satisfaction.

Scoring is `learners.scoring` (pure); this module draws, freezes, locks,
stores and turns results into ledger evidence through `services.record_evidence`.
"""

import math
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from courses.assessments import AUTO_SCORED, question_snapshots
from courses.models import Block, Competence, Level, ModulePage, TrackPage
from courses.models.pages import FeedbackPolicy
from learners import activity, page_versions, scoring
from learners.assessment_models import GradingCorrection, grades_any_submission
from learners.models import (
    AccommodationRequest,
    Attempt,
    AttemptAnswer,
    Enrolment,
    LedgerEntry,
    Satisfaction,
    Submission,
    User,
)
from learners.queries import covering_enrolment, missing_prerequisites
from learners.services import (
    JourneyRefused,
    NotEnrolled,
    PrerequisitesMissing,
    record_evidence,
    refresh_completion,
    retract_evidence,
)
from learners.session_models import ActivityEvent
from learners.signals import attempt_outcome_recorded, submission_graded
from learners.uploads import MAX_UPLOAD_BYTES, UploadRefused, check_upload

# Network latency and a slow click must not cost a learner their attempt.
LATE_GRACE = timedelta(seconds=30)
# A file sent over a slow line (1 Mbit/s, a rural uplink) reaches the server long
# after the click, and a proxy that buffers uploads hands it over only then: the
# upload's time is not the learner's. 10 MB, the largest file, earns 80 seconds.
SLOW_UPLOAD_BYTES_PER_SECOND = 125_000
TIME_UP_EARLY = timedelta(seconds=15)
ITEM_ANALYSIS_MIN_ANSWERS = 5


class FileRefusal(str):
    """A form error about an open question's attached file, not about its text: the
    page ties it to the file field."""


class AssessmentRefused(JourneyRefused):
    """A refusal to show the learner as is; `field` names the form field it is about."""

    def __init__(self, message="", field: str | None = None):
        super().__init__(message)
        self.field = field


# --- Drawing and freezing --------------------------------------------------------


def _resolve(questions: list[dict], competences: list[Competence]) -> list[dict]:
    """Add competence and level ids to frozen questions, so evidence needs no lookup by code."""
    by_code = {competence.code: competence for competence in competences}
    framework_ids = {competence.block.framework_id for competence in competences}
    levels = {
        (level.framework_id, level.code): level
        for level in Level.objects.filter(framework_id__in=framework_ids)
    }
    for question in questions:
        competence = by_code.get(question["competence"])
        level = competence and levels.get((competence.block.framework_id, question["level"]))
        question["competence_id"] = competence.pk if competence else None
        question["level_id"] = level.pk if level else None
        question["level_rank"] = level.rank if level else None
    return questions


def draw_questions(
    stream, per_competence: int | None, shuffle_options: bool, rng: random.Random
) -> list[dict]:
    """Freeze the questions an attempt asks: N per competence (all when None), in authored order.

    Options are shuffled when asked; ordering items always are, or the page
    would show the answer.
    """
    # A malformed question published before publishing checked quizzes is left out,
    # not a 500 for every learner (courses.assessments.question_snapshots).
    snapshots = question_snapshots(stream)
    if per_competence:
        by_competence: dict[str, list[int]] = defaultdict(list)
        for index, question in enumerate(snapshots):
            by_competence[question["competence"]].append(index)
        kept = set()
        for indexes in by_competence.values():
            kept.update(rng.sample(indexes, min(per_competence, len(indexes))))
        snapshots = [q for index, q in enumerate(snapshots) if index in kept]
    for question in snapshots:
        if "options" in question and shuffle_options:
            rng.shuffle(question["options"])
        if "items" in question:
            correct = list(question["items"])
            while len(correct) > 1 and question["items"] == correct:
                rng.shuffle(question["items"])
            # An item's key is its right position: its form field is named by a slot
            # drawn for this attempt instead, or the page's source would tell the order.
            for item in question["items"]:
                item["slot"] = secrets.token_hex(4)
    return snapshots


def item_field(base: str, item: dict) -> str:
    """An ordering item's form field (attempts frozen before slots use its key)."""
    return f"{base}-{item.get('slot', item['key'])}"


# --- Quiz rules ------------------------------------------------------------------


@dataclass
class QuizState:
    module: ModulePage
    attempts: list[Attempt]
    now: datetime
    learner: User
    # None until asked: resuming an open attempt (start_attempt) never needs them.
    known_missing: list[ModulePage] | None = None

    @property
    def missing(self) -> list[ModulePage]:
        """The prerequisite modules `start_attempt` would ask to complete first."""
        if self.known_missing is None:
            self.known_missing = missing_prerequisites(self.learner, self.module)
        return self.known_missing

    @property
    def used(self) -> int:
        return len(self.attempts)

    @property
    def attempts_left(self) -> int | None:
        if self.module.quiz_max_attempts is None:
            return None
        # An attempt whose open answer a trainer sent back for rework gives one more:
        # the rework is sent through a new attempt, which the limit must leave room for.
        sent_back = sum(1 for attempt in self.attempts if getattr(attempt, "sent_back", False))
        return max(0, self.module.quiz_max_attempts + sent_back - self.used)

    @property
    def open_attempt(self) -> Attempt | None:
        return next((a for a in self.attempts if a.is_open), None)

    @property
    def passed(self) -> bool:
        return any(a.passed for a in self.attempts)

    @property
    def to_rework(self) -> bool:
        """Whether the latest pass has an answer sent back: the module waits for a new
        attempt (as `queries.answers_to_rework`, from the attempts already read)."""
        passes = [a for a in self.attempts if a.passed and a.submitted_at]
        latest = max(passes, key=lambda a: (a.submitted_at, a.pk), default=None)
        return bool(latest is not None and getattr(latest, "sent_back", False))

    @property
    def last_finished(self) -> Attempt | None:
        finished = [a for a in self.attempts if not a.is_open]
        return max(finished, key=lambda a: a.submitted_at or a.started_at, default=None)

    @property
    def next_start_at(self) -> datetime | None:
        last = self.last_finished
        if last is None or not self.module.quiz_cooldown_minutes:
            return None
        at = (last.submitted_at or last.started_at) + timedelta(
            minutes=self.module.quiz_cooldown_minutes
        )
        return at if at > self.now else None

    def refusal(self) -> str | None:
        """Why a new attempt cannot start now, or None."""
        if not self.module.has_quiz:
            return _("This module has no quiz.")
        if self.attempts_left == 0:
            return _("You have used all your attempts at this quiz.")
        # Said before the learner clicks, in the words the start would refuse with.
        if self.missing:
            return str(PrerequisitesMissing(self.missing))
        if self.next_start_at is not None:
            return _("You can try again from %(time)s.") % {
                "time": timezone.localtime(self.next_start_at).strftime("%d/%m/%Y %H:%M")
            }
        return None


def quiz_state(
    learner: User,
    module: ModulePage,
    now: datetime | None = None,
    *,
    missing: list[ModulePage] | None = None,
) -> QuizState:
    """The learner's attempts at the module's quiz; `missing` when the caller knows them."""
    reworked = Submission.objects.filter(attempt=OuterRef("pk"), status=Submission.Status.REWORK)
    attempts = list(
        Attempt.objects.quizzes()
        .filter(learner=learner, module=module)
        .only("pk", "status", "passed", "score", "number", "started_at", "submitted_at", "deadline")
        .annotate(sent_back=Exists(reworked))
        .order_by("number")
    )
    return QuizState(
        module=module,
        attempts=attempts,
        now=now or timezone.now(),
        learner=learner,
        known_missing=missing,
    )


def start_attempt(
    learner: User,
    module: ModulePage,
    *,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> Attempt:
    """Start (or resume) the learner's attempt at the module's quiz.

    Raises `NotEnrolled`, `PrerequisitesMissing` or `AssessmentRefused` (no
    attempt left, cooldown running). Two concurrent starts cannot exceed the
    maximum: the enrolment row is locked for the transaction.
    """
    now = now or timezone.now()
    enrolment = covering_enrolment(learner, module)
    if enrolment is None:
        raise NotEnrolled()
    missing = missing_prerequisites(learner, module)
    if missing:
        raise PrerequisitesMissing(missing)
    try:
        with transaction.atomic():
            list(Enrolment.objects.select_for_update().filter(pk=enrolment.pk).values_list("pk"))
            state = quiz_state(learner, module, now, missing=missing)
            if state.open_attempt is not None:
                return expire_if_late(state.open_attempt, now) or Attempt.objects.get(
                    pk=state.open_attempt.pk
                )
            refusal = state.refusal()
            if refusal:
                raise AssessmentRefused(refusal)
            questions = draw_questions(
                module.quiz,
                module.quiz_questions_per_competence,
                module.quiz_shuffle_options,
                rng or random.SystemRandom(),
            )
            competences = [t.competence for t in module.targets.select_related("competence__block")]
            limit = allowed_minutes(module, learner.pk)
            return Attempt.objects.create(
                learner=learner,
                kind=Attempt.Kind.QUIZ,
                module=module,
                number=state.used + 1,
                questions=_resolve(questions, competences),
                pass_mark=module.quiz_pass_mark,
                feedback_policy=module.quiz_feedback,
                started_at=now,
                deadline=now + timedelta(minutes=limit) if limit else None,
            )
    except IntegrityError as error:
        # Another request took this attempt number between our read and our write
        # (possible on SQLite, which has no row locks): it won, nothing to undo.
        raise AssessmentRefused(_("An attempt has just been started. Reload the page.")) from error


def allowed_minutes(module: ModulePage, learner_id: int) -> int | None:
    """The module's time limit for this learner: with the extra time an answered
    accommodation request granted on the module's track (« tiers-temps »),
    rounded up to the minute in the learner's favour; None: untimed.

    The track is the module's parent in the tree, whatever enrolment opens the
    module: one to the module alone has no track, and the request is the track's.
    """
    limit = module.quiz_time_limit_minutes
    if not limit:
        return None
    track = TrackPage.objects.filter(path=module.path[: -module.steplen]).values("pk")
    extra = AccommodationRequest.objects.extra_time_percent(learner_id, track)
    return math.ceil(limit * (100 + extra) / 100)


def upload_allowance(uploads: dict[str, UploadedFile]) -> timedelta:
    """How long the files sent with answers may have taken to arrive on a slow line."""
    size = sum(min(upload.size or 0, MAX_UPLOAD_BYTES) for upload in uploads.values())
    return timedelta(seconds=size / SLOW_UPLOAD_BYTES_PER_SECOND)


def sent_answer_files(attempt: Attempt, files) -> dict[str, UploadedFile]:
    """The files a request sent for the attempt's questions that take one, refused ones
    included (the line took their time all the same); nothing else a forged form may
    carry, which would buy it time."""
    sent = {}
    for question in attempt.questions:
        if question["type"] == "open" and question.get("allow_file"):
            upload = files.get(f"q-{question['id']}-file")
            if upload is not None:
                sent[question["id"]] = upload
    return sent


def expire_if_late(attempt: Attempt, now: datetime) -> Attempt | None:
    """Close an attempt whose time ran out with a zero score; None when it is not late."""
    if attempt.deadline is None or now <= attempt.deadline + LATE_GRACE:
        return None
    # Closed when its time ran out, not when someone next looked: the wait before a
    # new attempt runs from there.
    updated = Attempt.objects.filter(pk=attempt.pk, status=Attempt.Status.IN_PROGRESS).update(
        status=Attempt.Status.EXPIRED,
        submitted_at=attempt.deadline + LATE_GRACE,
        score=0,
        passed=False,
    )
    if updated:
        # update() sends no signal: the module page would offer to resume it.
        page_versions.touch([attempt.learner_id])
    attempt.refresh_from_db()
    return attempt if updated or not attempt.is_open else None


# --- Answers from a form ---------------------------------------------------------


def field_names(question: dict) -> list[str]:
    """The form fields a question owns (the first one is where an error link points)."""
    base = f"q-{question['id']}"
    if question["type"] == "ordering":
        return [item_field(base, item) for item in question["items"]]
    if question["type"] == "open":
        return [base, f"{base}-file"]
    return [base]


def answers_from_form(
    attempt: Attempt, data, files, *, now: datetime | None = None
) -> tuple[dict[str, Any], dict[str, UploadedFile], dict[str, str]]:
    """Answers keyed by question id, files by question id, and errors by question id.

    Raises `AssessmentRefused` when the form answers a question the attempt did
    not draw: that is a forged or stale form, not a mistake to correct. A form the
    page sent by itself when the time ran out (`time_up`), or one arriving past the
    deadline, has no errors to correct: a question left blank or answered in a form
    that cannot be scored is wrong, and a refused file is left out.
    """
    known = {name for question in attempt.questions for name in field_names(question)}
    posted = [name for name in [*data.keys(), *files.keys()] if name.startswith("q-")]
    if any(name not in known for name in posted):
        raise AssessmentRefused(_("This form answers a question that is not part of your attempt."))
    answers: dict[str, Any] = {}
    uploads: dict[str, UploadedFile] = {}
    errors: dict[str, str] = {}
    for question in attempt.questions:
        qid, kind, base = question["id"], question["type"], f"q-{question['id']}"
        if question.get("options") == [] or question.get("items") == []:
            # Frozen before snapshots left such questions out: nothing to answer, so
            # it cannot hold the form back; it scores as a wrong answer.
            answers[qid] = None
            continue
        if kind == "multiple_choice":
            answer = data.getlist(base)
            if not answer:
                errors[qid] = _("Tick at least one answer.")
        elif kind == "ordering":
            positions = [data.get(item_field(base, item), "") for item in question["items"]]
            expected = [str(n) for n in range(1, len(question["items"]) + 1)]
            # Compared as multisets of strings: sorting them as text puts "10"
            # before "2", but the same way on both sides.
            if sorted(positions) != sorted(expected):
                errors[qid] = _("Give each item a different position.")
                answer = None
            else:
                ranked = sorted(
                    zip(positions, question["items"], strict=True), key=lambda p: int(p[0])
                )
                answer = [item["key"] for _position, item in ranked]
        else:
            answer = (data.get(base) or "").strip()
            upload = files.get(f"{base}-file") if kind == "open" else None
            if upload is not None and question.get("allow_file"):
                try:
                    check_upload(upload)
                except UploadRefused as refusal:
                    errors[qid] = FileRefusal(refusal)
                uploads[qid] = upload
            if not answer and not (kind == "open" and upload is not None):
                errors.setdefault(qid, _("Answer this question."))
            elif kind == "numeric" and scoring.parse_number(answer) is None:
                errors[qid] = _("Enter a number.")
        answers[qid] = answer
    if errors and _no_time_left(attempt, data, now or timezone.now()):
        kinds = {question["id"]: question["type"] for question in attempt.questions}
        for qid in errors:
            if kinds[qid] == "open" and qid in uploads:
                uploads.pop(qid)  # the refused file, not the text typed beside it
            else:
                answers[qid] = None
        errors = {}
    return answers, uploads, errors


def sent_when_time_was_up(attempt: Attempt, data, now: datetime | None = None) -> bool:
    """Whether the page sent this form by itself, its time being up."""
    return bool(data.get("time_up")) and _time_is_up(attempt, now or timezone.now())


def _no_time_left(attempt: Attempt, data, now: datetime) -> bool:
    # Sent by the page, its time up; or sent by a click that arrived past the deadline
    # (a file on a slow line): sent back with errors, it could be corrected no more, and
    # the timer would then send it again without its file, too late.
    return sent_when_time_was_up(attempt, data, now) or (
        attempt.deadline is not None and now >= attempt.deadline
    )


def _time_is_up(attempt: Attempt, now: datetime) -> bool:
    # A little early is the page's own timer running ahead; much earlier, the flag
    # was not set by the timer, and the form is checked as any other.
    return attempt.deadline is not None and now >= attempt.deadline - TIME_UP_EARLY


# --- Submitting ------------------------------------------------------------------


def submit_attempt(
    attempt: Attempt,
    answers: dict[str, Any],
    uploads: dict[str, UploadedFile] | None = None,
    *,
    now: datetime | None = None,
    sent_files=None,
) -> Attempt:
    """Score and close the attempt once; raise `AssessmentRefused` for anything else.

    A second submission or a replayed POST finds the attempt closed; a late one
    closes it as expired (score 0); an answer to a question the attempt did not
    draw refuses the whole submission. Each case leaves exactly one result.
    `sent_files`: every file the request carried, whose upload time is not the
    learner's (the answers' own files when not given).
    """
    now = now or timezone.now()
    uploads = uploads or {}
    if set(answers) - {q["id"] for q in attempt.questions}:
        raise AssessmentRefused(_("This form answers a question that is not part of your attempt."))
    if not attempt.is_open:
        raise AssessmentRefused(_("This attempt has already been submitted."))
    with transaction.atomic():
        # The attempt as the caller loaded it: its frozen questions and deadline
        # never change, and its status is checked again by the closing update.
        allowance = upload_allowance(sent_files if sent_files is not None else uploads)
        expired = expire_if_late(attempt, now - allowance) is not None
        if not expired:
            _score_and_close(attempt, answers, uploads, now)
    if expired:
        raise AssessmentRefused(_("The time limit has passed: your answers could not be accepted."))
    return attempt


def _score_and_close(
    attempt: Attempt, answers: dict[str, Any], uploads: dict[str, UploadedFile], now: datetime
) -> None:
    rows, fractions, by_hand = [], [], []
    by_competence: dict[str, list[float]] = defaultdict(list)
    for position, question in enumerate(attempt.questions):
        answer = answers.get(question["id"])
        fraction = scoring.score(question, answer)
        if fraction is None and not (answer or "").strip() and question["id"] not in uploads:
            # An open question left blank when the time ran out: wrong, as a blank is
            # for any question. Left out, a quiz of open questions sent empty by its
            # timer scored 100 % with nothing for a trainer to grade, and passed.
            fraction = 0.0
        rows.append(
            AttemptAnswer(
                attempt=attempt,
                question_id=question["id"],
                position=position,
                answer=answer,
                score=fraction,
            )
        )
        if fraction is not None:
            fractions.append(fraction)
            by_competence[question["competence"]].append(fraction)
        elif attempt.kind == Attempt.Kind.QUIZ and question.get("competence_id"):
            by_hand.append((question, answer))
    score = scoring.percent(fractions)
    closed = {
        "score": score,
        "passed": score >= attempt.pass_mark,
        "competence_scores": {
            code: scoring.percent(values) for code, values in by_competence.items()
        },
        "status": Attempt.Status.SUBMITTED,
        "submitted_at": now,
    }
    # Compare-and-swap instead of re-reading the attempt under a lock: the update
    # holds the row until commit, so a concurrent submission waits for it, then
    # matches nothing and is refused; nothing was stored for it yet.
    if not Attempt.objects.filter(pk=attempt.pk, status=Attempt.Status.IN_PROGRESS).update(
        **closed
    ):
        raise AssessmentRefused(_("This attempt has already been submitted."))
    # update() sends no signal: the learner's cached pages must still move on.
    page_versions.touch([attempt.learner_id])
    for field, value in closed.items():
        setattr(attempt, field, value)
    AttemptAnswer.objects.bulk_create(rows)
    if by_hand:
        Submission.objects.bulk_create(
            _open_submission(attempt, question, answer, uploads, now)
            for question, answer in by_hand
        )
        from learners.tasks import enqueue, notify_answers_to_review

        transaction.on_commit(partial(enqueue, notify_answers_to_review, attempt.pk))
    if attempt.kind == Attempt.Kind.QUIZ:
        activity.record(
            attempt.learner_id, ActivityEvent.Kind.QUIZ_SUBMITTED, page_id=attempt.module_id, at=now
        )
    if attempt.kind == Attempt.Kind.QUIZ and attempt.passed:
        # Completion now, so the next module opens as the result page shows.
        refresh_completion(attempt.learner, attempt.module, quiz_passed=True)
    if attempt.passed or attempt.kind == Attempt.Kind.POSITIONING:
        from learners.tasks import enqueue, record_attempt_outcome

        # Ledger evidence follows after commit, off the learner's request when a
        # broker runs: its bookkeeping (lock, derived levels before and after,
        # signals) costs more queries than storing the answers.
        transaction.on_commit(partial(enqueue, record_attempt_outcome, attempt.pk))


def record_attempt_outcome(attempt: Attempt) -> list[LedgerEntry]:
    """Ledger evidence for a submitted attempt (the task claims it once)."""
    if attempt.kind == Attempt.Kind.POSITIONING:
        return record_positioning_evidence(attempt)
    if not attempt.passed:
        return []
    entries = record_attempt_evidence(attempt)
    # After the levels it raised (their signals were queued first): awards that
    # waited for this quiz's evidence are evaluated now (certification.receivers).
    transaction.on_commit(
        partial(
            attempt_outcome_recorded.send, sender=Attempt, learner=attempt.learner, attempt=attempt
        )
    )
    return entries


def _open_submission(
    attempt: Attempt, question: dict, answer: Any, uploads: dict, now: datetime
) -> Submission:
    upload = uploads.get(question["id"]) if question.get("allow_file") else None
    submission = Submission(
        learner_id=attempt.learner_id,
        module_id=attempt.module_id,
        attempt=attempt,
        question_id=question["id"],
        prompt=question["text"],
        expected=question.get("explanation") or "",
        competence_id=question["competence_id"],
        text=answer or "",
        submitted_at=now,
    )
    if upload is not None:
        checked = check_upload(upload)
        submission.file_name = upload.name[:255]
        submission.file_type = checked.mime
        submission.file.save(f"answer.{checked.extension}", upload, save=False)
    return submission


def _evidence_levels(attempt: Attempt) -> dict[int, int]:
    """Competence id → level id earned: the highest level among the competence's
    scored questions, for each competence whose score meets the pass mark."""
    best: dict[int, tuple[int, int]] = {}
    for question in attempt.questions:
        if question["type"] not in AUTO_SCORED or not question.get("level_id"):
            continue
        if attempt.competence_scores.get(question["competence"], 0) < attempt.pass_mark:
            continue
        rank = question["level_rank"]
        current = best.get(question["competence_id"])
        if current is None or rank > current[0]:
            best[question["competence_id"]] = (rank, question["level_id"])
    return {competence_id: level_id for competence_id, (_, level_id) in best.items()}


def record_attempt_evidence(attempt: Attempt) -> list[LedgerEntry]:
    levels = _evidence_levels(attempt)
    competences = Competence.objects.select_related("block").in_bulk(levels)
    level_rows = Level.objects.in_bulk(levels.values())
    return [
        record_evidence(
            attempt.learner,
            competences[competence_id],
            level_rows[level_id],
            LedgerEntry.Source.ASSESSMENT,
            source_reference=f"attempt:{attempt.pk}",
        )
        for competence_id, level_id in levels.items()
        if competence_id in competences and level_id in level_rows
    ]


# --- Feedback --------------------------------------------------------------------


def feedback_visible(attempt: Attempt, passed_before: bool = False) -> bool:
    if attempt.is_open:
        return False
    if attempt.feedback_policy == FeedbackPolicy.IMMEDIATELY:
        return True
    if attempt.feedback_policy == FeedbackPolicy.AFTER_PASSING:
        return bool(attempt.passed or passed_before)
    return False


def public_questions(
    attempt: Attempt, data=None, errors: dict | None = None, files=None
) -> list[dict]:
    """What the quiz page may show: texts and keys, never correctness or feedback.

    Built field by field rather than by removing keys, so a field added to the
    snapshot later cannot leak by default. `files` are those a refused form sent: a
    browser never fills a file input again, so the page says to choose them again.
    """
    shown = []
    for number, question in enumerate(attempt.questions, start=1):
        base = f"q-{question['id']}"
        item = {
            "id": question["id"],
            "number": number,
            "type": question["type"],
            "text": question["text"],
            "field": base,
            "first_field": field_names(question)[0],
            "error": (errors or {}).get(question["id"], ""),
        }
        if "options" in question:
            picked = set(data.getlist(base)) if data is not None else set()
            item["options"] = [
                {"key": o["key"], "text": o["text"], "checked": o["key"] in picked}
                for o in question["options"]
            ]
            if question["options"]:
                # Radios and checkboxes carry their option's key in their ids.
                item["first_field"] = f"{base}-{question['options'][0]['key']}"
        if "items" in question:
            count = len(question["items"])
            item["items"] = [
                {
                    "key": i["key"],
                    "text": i["text"],
                    "field": item_field(base, i),
                    "selected": data.get(item_field(base, i), "") if data is not None else "",
                }
                for i in question["items"]
            ]
            item["positions"] = [str(n) for n in range(1, count + 1)]
        if question["type"] == "open":
            item["allow_file"] = question.get("allow_file", False)
            item["error_on_file"] = isinstance(item["error"], FileRefusal)
            if item["error_on_file"]:
                item["first_field"] = f"{base}-file"
            item["file_not_kept"] = bool(item["allow_file"] and files and f"{base}-file" in files)
        if data is not None and question["type"] in ("short_answer", "numeric", "open"):
            item["value"] = data.get(base, "")
        shown.append(item)
    return shown


def attempt_review(attempt: Attempt) -> list[dict]:
    """Each question with the learner's answer, its score, feedback and explanation."""
    answers = {a.question_id: a for a in attempt.answers.all()}
    review = []
    for number, question in enumerate(attempt.questions, start=1):
        answer = answers.get(question["id"])
        given = answer.answer if answer else None
        picked = set(given if isinstance(given, list) else [given] if given else [])
        review.append(
            {
                "number": number,
                "question": question,
                "answer": given,
                "score": None if answer is None else answer.score,
                "options": [
                    {**option, "picked": option["key"] in picked}
                    for option in question.get("options", [])
                ],
                "ordered": [
                    next((i["text"] for i in question.get("items", []) if i["key"] == key), "")
                    for key in (given if question["type"] == "ordering" and given else [])
                ],
                "correct_order": [
                    i["text"]
                    for i in sorted(question.get("items", []), key=lambda i: int(i["key"]))
                ],
            }
        )
    return review


# --- Positioning -----------------------------------------------------------------


def start_positioning(learner: User, track: TrackPage, *, rng=None) -> Attempt:
    """The learner's positioning test for `track`: one per learner and track."""
    existing = Attempt.objects.positionings().filter(learner=learner, track=track).first()
    if existing is not None:
        return existing
    if not Enrolment.objects.active().filter(learner=learner, track=track).exists():
        raise NotEnrolled()
    if not len(track.positioning):
        raise AssessmentRefused(_("This track has no positioning test."))
    questions = draw_questions(track.positioning, None, True, rng or random.SystemRandom())
    competences = (
        list(track.framework.competences().select_related("block")) if track.framework else []
    )
    try:
        with transaction.atomic():
            return Attempt.objects.create(
                learner=learner,
                kind=Attempt.Kind.POSITIONING,
                track=track,
                questions=_resolve(questions, competences),
                pass_mark=track.positioning_pass_mark,
                feedback_policy=FeedbackPolicy.IMMEDIATELY,
            )
    except IntegrityError:
        return Attempt.objects.positionings().get(learner=learner, track=track)


def self_assessment_from_form(track: TrackPage, data) -> tuple[dict[str, int], dict[str, str]]:
    ratings, errors = {}, {}
    for block in blocks_of(track):
        value = data.get(f"self-{block.code}", "")
        if value not in {"1", "2", "3", "4"}:
            errors[block.code] = _("Choose a level between 1 and 4.")
        else:
            ratings[block.code] = int(value)
    return ratings, errors


def blocks_of(track: TrackPage) -> list[Block]:
    if track.framework_id is None:
        return []
    return list(Block.objects.filter(framework_id=track.framework_id).order_by("order", "code"))


def submit_positioning(
    attempt: Attempt, answers: dict[str, Any], self_assessment: dict[str, int]
) -> Attempt:
    with transaction.atomic():
        attempt = submit_attempt(attempt, answers)
        attempt.self_assessment = self_assessment
        attempt.save(update_fields=["self_assessment"])
    return attempt


def record_positioning_evidence(attempt: Attempt) -> list[LedgerEntry]:
    """Positioning proves little: a competence met at the pass mark earns its framework's
    lowest level, whatever the questions' levels (docs/decisions.md)."""
    met = {
        q["competence_id"]
        for q in attempt.questions
        if q.get("competence_id")
        and attempt.competence_scores.get(q["competence"], 0) >= attempt.pass_mark
    }
    competences = Competence.objects.select_related("block").in_bulk(met)
    lowest = {}
    for level in Level.objects.filter(
        framework_id__in={c.block.framework_id for c in competences.values()}
    ).order_by("-rank"):
        lowest[level.framework_id] = level
    return [
        record_evidence(
            attempt.learner,
            competence,
            lowest[competence.block.framework_id],
            LedgerEntry.Source.POSITIONING,
            source_reference=f"positioning:{attempt.pk}",
        )
        for competence in competences.values()
        if competence.block.framework_id in lowest
    ]


def positioning_advice(learner: User, track: TrackPage, modules) -> dict[int, str]:
    """Module id → "acquired" (probably acquired) or "recommended", from the positioning test.

    A module is probably acquired when the learner's positioning score meets the
    pass mark on every competence it targets (and the test asked about each);
    empty when the learner has not taken the test. Advice only: nothing is locked.
    """
    attempt = (
        Attempt.objects.positionings()
        .finished()
        .filter(learner=learner, track=track)
        .only("competence_scores", "pass_mark")
        .first()
    )
    if attempt is None:
        return {}
    advice = {}
    for module in modules:
        codes = [t.competence.code for t in module.targets.all()]
        acquired = bool(codes) and all(
            attempt.competence_scores.get(code, -1) >= attempt.pass_mark for code in codes
        )
        advice[module.pk] = "acquired" if acquired else "recommended"
    return advice


# --- Grading ---------------------------------------------------------------------


def grading_queue(trainer: User):
    """Pending submissions on the modules the trainer owns, oldest first; the team's
    graders also get those whose module has no active owner any more, or whose owner
    wrote them. Never the trainer's own."""
    pending = Submission.objects.pending()
    mine = pending.for_trainer(trainer)
    if grades_any_submission(trainer):
        mine = mine | pending.for_the_team()
    mine = mine.exclude(learner=trainer)
    # The attempt's number tells a retake's answer from the one it followed.
    return (
        mine.select_related("learner", "module", "competence__block", "attempt")
        .defer("attempt__questions")
        .order_by("submitted_at", "pk")
    )


# How far back the grading pages list what was graded, to be read again or corrected.
RECENT_GRADINGS_DAYS = 90
RECENT_GRADINGS_SHOWN = 50


def recent_gradings(trainer: User):
    """What the trainer graded, or was graded on their modules, lately; newest first.
    The team's graders share the modules nobody owns: a colleague's grading there is
    theirs to read again and rectify too."""
    since = timezone.now() - timedelta(days=RECENT_GRADINGS_DAYS)
    theirs = Q(graded_by=trainer) | Q(module__owner=trainer)
    if grades_any_submission(trainer):
        theirs |= Q(pk__in=Submission.objects.for_the_team().values("pk"))
    return (
        Submission.objects.gradable_by(trainer)
        .exclude(status=Submission.Status.PENDING)
        .filter(theirs, graded_at__gte=since)
        .select_related("learner", "module", "competence", "level")
        .order_by("-graded_at", "-pk")[:RECENT_GRADINGS_SHOWN]
    )


def grade_submission(
    trainer: User,
    submission: Submission,
    *,
    validated: bool,
    level: Level | None,
    comment: str,
) -> Submission:
    """Record the trainer's decision once; a validated submission writes ledger evidence.

    Raises `PermissionError` when the trainer does not own the module and
    `AssessmentRefused` when the submission was already graded or the level
    does not belong to the competence's framework.
    """
    _check_grading(trainer, submission, validated, level)
    status = Submission.Status.VALIDATED if validated else Submission.Status.REWORK
    with transaction.atomic():
        claimed = Submission.objects.filter(
            pk=submission.pk, status=Submission.Status.PENDING
        ).update(
            status=status,
            graded_by=trainer,
            graded_at=timezone.now(),
            level=level if validated else None,
            comment=comment,
        )
        if not claimed:
            raise AssessmentRefused(_("This submission has already been graded."))
        # update() sends no signal: the learner's dashboard shows the grading.
        page_versions.touch([submission.learner_id])
        submission.refresh_from_db()
        _record_grading(trainer, submission, level if validated else None)
    return submission


def correct_grading(
    trainer: User,
    submission: Submission,
    *,
    validated: bool,
    level: Level | None,
    comment: str,
    reason: str,
    graded_at: datetime | None,
) -> Submission:
    """Replace a recorded grading with the trainer's corrected one, keeping the history.

    The grading replaced is kept (GradingCorrection, with `reason`). The ledger is
    append-only: when the decision or level changes, the evidence the grading
    wrote is retracted and the corrected level, if any, is recorded anew. The
    correction applies to the grading the trainer saw (`graded_at`): one that
    changed meanwhile is refused. The learner is told again.
    """
    # The form keeps the recorded level checked: a rework sent with it gives no level.
    level = level if validated else None
    if not reason.strip():
        raise AssessmentRefused(_("Say why the grading is corrected."), field="reason")
    _check_grading(trainer, submission, validated, level)
    status = Submission.Status.VALIDATED if validated else Submission.Status.REWORK
    with transaction.atomic():
        current = (
            Submission.objects.select_for_update(of=("self",))
            .filter(pk=submission.pk)
            .exclude(status=Submission.Status.PENDING)
            .select_related("learner")
            .first()
        )
        if current is not None and current.learner.erased_at is not None:
            # Read under the lock: evidence must not be recorded for a person who is gone.
            raise AssessmentRefused(
                _("Its author erased their account: it can no longer be graded.")
            )
        if current is None or current.graded_at != graded_at:
            raise AssessmentRefused(_("This grading changed since you opened it: read it below."))
        # A comment alone may be corrected (a wrong remark); the evidence stays then.
        same_outcome = current.status == status and current.level_id == (
            level.pk if level else None
        )
        if same_outcome and current.comment == comment:
            raise AssessmentRefused(
                _("This is the grading already recorded: change the decision, level or comment.")
            )
        GradingCorrection.objects.create(
            submission=current,
            corrected_by=trainer,
            reason=reason.strip(),
            previous_status=current.status,
            previous_level_id=current.level_id,
            previous_comment=current.comment,
            previous_graded_by_id=current.graded_by_id,
            previous_graded_at=current.graded_at,
            learner_was_told=current.learner_notified_at is not None,
        )
        reference = f"submission:{submission.pk}"
        if not same_outcome:
            for entry in LedgerEntry.objects.standing().filter(
                learner_id=current.learner_id,
                source=LedgerEntry.Source.SUBMISSION,
                source_reference=reference,
            ):
                retract_evidence(entry, trainer, reason.strip())
        Submission.objects.filter(pk=submission.pk).update(
            status=status,
            graded_by=trainer,
            graded_at=timezone.now(),
            level=level,
            comment=comment,
            learner_notified_at=None,
        )
        page_versions.touch([submission.learner_id])
        submission.refresh_from_db()
        _record_grading(trainer, submission, None if same_outcome else level)
    return submission


def _check_grading(
    trainer: User, submission: Submission, validated: bool, level: Level | None
) -> None:
    if submission.module.owner_id != trainer.pk and not grades_any_submission(trainer):
        raise PermissionError("Only the module's owner, or the team, grades its submissions.")
    if submission.learner_id == trainer.pk:
        raise PermissionError("Nobody grades their own answers: the evidence would be theirs.")
    if validated and (
        level is None or level.framework_id != submission.competence.block.framework_id
    ):
        raise AssessmentRefused(_("Choose a level of the competence's framework."), field="level")


def _record_grading(trainer: User, submission: Submission, evidence: Level | None) -> None:
    """Inside the grading's transaction: its evidence, if any, then what follows the commit."""
    if evidence is not None:
        record_evidence(
            submission.learner,
            submission.competence,
            evidence,
            LedgerEntry.Source.SUBMISSION,
            validated_by=trainer,
            source_reference=f"submission:{submission.pk}",
            comment=submission.comment,
        )
    from learners.tasks import enqueue, notify_submission_graded

    transaction.on_commit(partial(enqueue, notify_submission_graded, submission.pk))
    # After the levels it raised (their signals were queued first).
    transaction.on_commit(
        partial(
            submission_graded.send,
            sender=Submission,
            learner=submission.learner,
            submission=submission,
        )
    )


# --- Satisfaction ----------------------------------------------------------------


def record_satisfaction(
    learner: User, module: ModulePage, rating: int, comment: str = ""
) -> tuple[Satisfaction, bool]:
    """Once per learner and module: a second answer returns the first, unchanged."""
    if not 1 <= rating <= 5:
        raise AssessmentRefused(_("Choose a rating between 1 and 5."))
    try:
        with transaction.atomic():
            return (
                Satisfaction.objects.create(
                    learner=learner, module=module, rating=rating, comment=comment.strip()
                ),
                True,
            )
    except IntegrityError:
        return Satisfaction.objects.get(learner=learner, module=module), False


@dataclass
class SatisfactionSummary:
    module: ModulePage
    # Every answer, and those the figures and comments are drawn from.
    count: int
    average: float | None
    distribution: dict[int, int]
    comments: list[str]
    counted: int = 0

    @property
    def waiting(self) -> int:
        return self.count - self.counted


# Below this many answers a trainer who knows who completed the module could tell
# whose rating or comment is whose: only the count is shown, as for item analysis.
# Past it, answers are counted by whole groups of this size, oldest first: with the
# sixth answer counted at once, the figures seen before and after it would give it
# away by difference, and its comment would be the new one in the list.
SATISFACTION_MIN_ANSWERS = ITEM_ANALYSIS_MIN_ANSWERS


def satisfaction_summary(module: ModulePage) -> SatisfactionSummary:
    """Aggregates for trainers; comments carry no name and come in a shuffled order,
    so that their order cannot be matched with the list of learners. Answers are
    counted by groups of `SATISFACTION_MIN_ANSWERS`; under one group, the count alone."""
    rows = Satisfaction.objects.filter(module=module)
    count = rows.count()
    counted = count - count % SATISFACTION_MIN_ANSWERS
    if not counted:
        return SatisfactionSummary(module, count, None, {}, [])
    rows = Satisfaction.objects.filter(
        pk__in=list(rows.order_by("created_at", "pk").values_list("pk", flat=True)[:counted])
    )
    distribution = dict(
        rows.order_by().values("rating").annotate(n=Count("pk")).values_list("rating", "n")
    )
    comments = list(rows.exclude(comment="").values_list("comment", flat=True))
    random.SystemRandom().shuffle(comments)
    average = rows.aggregate(avg=Avg("rating"))["avg"]
    return SatisfactionSummary(
        module=module,
        count=count,
        average=round(average, 1),
        distribution={rating: distribution.get(rating, 0) for rating in range(1, 6)},
        comments=comments,
        counted=counted,
    )


# --- Item analysis ---------------------------------------------------------------


@dataclass
class ItemStats:
    question_id: str
    text: str
    type: str
    answers: int
    success_rate: float | None  # mean score, 0..1
    option_picks: list[tuple[str, float]]  # (option text, share of answers picking it)

    @property
    def shown(self) -> bool:
        return self.answers >= ITEM_ANALYSIS_MIN_ANSWERS


def item_analysis(module: ModulePage) -> list[ItemStats]:
    """Per question of the module's submitted attempts: success rate and pick rate per option.

    Two queries: the frozen questions and the answers. Rates are only meaningful
    past a handful of answers; `shown` says when a template may display them.
    """
    attempts = Attempt.objects.quizzes().finished().filter(module=module)
    texts: dict[str, dict] = {}
    # Which options each attempt's frozen question offered: an option added to the
    # question later is rated over the answers that could pick it, not over all.
    offered: dict[tuple[int, str], set[str]] = {}
    for attempt_id, questions in attempts.order_by("pk").values_list("pk", "questions"):
        for question in questions:
            texts[question["id"]] = question  # the latest frozen wording wins
            offered[attempt_id, question["id"]] = {
                option["key"] for option in question.get("options", [])
            }
    rows = AttemptAnswer.objects.filter(attempt__in=attempts).values_list(
        "attempt_id", "question_id", "answer", "score"
    )
    scores: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    picks: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    chances: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for attempt_id, question_id, answer, score in rows:
        counts[question_id] += 1
        if score is not None:
            scores[question_id].append(score)
        for key in offered.get((attempt_id, question_id), ()):
            chances[question_id][key] += 1
        for key in answer if isinstance(answer, list) else [answer]:
            if isinstance(key, str):
                picks[question_id][key] += 1
    stats = []
    for question_id, question in texts.items():
        total = counts.get(question_id, 0)
        option_picks = []
        for option in sorted(question.get("options", []), key=lambda o: o["text"]):
            could = chances[question_id].get(option["key"], 0)
            option_picks.append(
                (option["text"], picks[question_id].get(option["key"], 0) / could if could else 0.0)
            )
        # An open question's answers are graded by trainers: the zeros of answers left
        # blank at time-up are no success rate of the question.
        values = scores.get(question_id) if question["type"] != "open" else None
        stats.append(
            ItemStats(
                question_id=question_id,
                text=question["text"],
                type=question["type"],
                answers=total,
                success_rate=sum(values) / len(values) if values else None,
                option_picks=option_picks,
            )
        )
    order = {child.id: index for index, child in enumerate(module.quiz)}
    stats.sort(key=lambda s: order.get(s.question_id, len(order)))
    return stats
