"""Attempts (frozen), evidence submissions and satisfaction: the rows assessments leave.

Imported at the end of learners/models.py so that Django registers them in the
learners app; kept apart because they are a subject of their own.
"""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import Competence, Level, ModulePage, TrackPage


class AttemptQuerySet(models.QuerySet):
    def quizzes(self):
        return self.filter(kind=Attempt.Kind.QUIZ)

    def positionings(self):
        return self.filter(kind=Attempt.Kind.POSITIONING)

    def finished(self):
        return self.exclude(status=Attempt.Status.IN_PROGRESS)

    def outcome_unrecorded(self):
        """Submitted attempts whose ledger evidence is due but was never written: the
        task enqueued on commit did not run (broker down, message lost)."""
        return self.filter(
            Q(passed=True) | Q(kind=Attempt.Kind.POSITIONING),
            status=Attempt.Status.SUBMITTED,
            outcome_recorded_at__isnull=True,
        )


class Attempt(models.Model):
    """One sitting of a module's quiz or a track's positioning test.

    `questions` holds the drawn questions as they were when the attempt began
    (texts, options, correct answers) and `pass_mark` / `feedback_policy` the
    rules it was taken under: later edits of the page never change it.
    """

    class Kind(models.TextChoices):
        QUIZ = "quiz", _("Module quiz")
        POSITIONING = "positioning", _("Positioning test")

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        SUBMITTED = "submitted", _("Submitted")
        EXPIRED = "expired", _("Time limit exceeded")

    learner = models.ForeignKey(
        "learners.User",
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="attempts",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.QUIZ)
    module = models.ForeignKey(
        ModulePage, null=True, blank=True, on_delete=models.PROTECT, related_name="attempts"
    )
    track = models.ForeignKey(
        TrackPage, null=True, blank=True, on_delete=models.PROTECT, related_name="attempts"
    )
    number = models.PositiveSmallIntegerField(_("attempt number"), default=1)
    questions = models.JSONField(_("questions as drawn"), default=list)
    pass_mark = models.PositiveSmallIntegerField(_("pass mark (%)"))
    feedback_policy = models.CharField(_("feedback policy"), max_length=16)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.IN_PROGRESS
    )
    score = models.PositiveSmallIntegerField(_("score (%)"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    competence_scores = models.JSONField(_("score per competence (%)"), default=dict, blank=True)
    self_assessment = models.JSONField(_("self-assessment per block"), default=dict, blank=True)
    # Set by the task that turns a result into evidence: a redelivery finds it set.
    outcome_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = AttemptQuerySet.as_manager()

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="quiz", module__isnull=False, track__isnull=True)
                    | Q(kind="positioning", module__isnull=True, track__isnull=False)
                ),
                name="attempt_quiz_module_positioning_track",
            ),
            # With the lock on the enrolment, this is what keeps two concurrent
            # starts from taking the same attempt number.
            models.UniqueConstraint(
                fields=["learner", "module", "number"],
                condition=Q(module__isnull=False),
                name="attempt_number_unique_per_module",
            ),
            models.UniqueConstraint(
                fields=["learner", "track"],
                condition=Q(kind="positioning"),
                name="positioning_once_per_track",
            ),
        ]
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")

    def __str__(self) -> str:
        return f"{self.learner} · {self.module or self.track} · #{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.IN_PROGRESS

    def question(self, question_id: str) -> dict | None:
        return next((q for q in self.questions if q["id"] == question_id), None)


class AttemptAnswer(models.Model):
    """What the learner answered to one frozen question, and its score (None: graded by hand)."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    question_id = models.CharField(max_length=64)
    position = models.PositiveSmallIntegerField()
    answer = models.JSONField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question_id"], name="attempt_answer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id} · {self.question_id}"


def submission_path(instance: "Submission", filename: str) -> str:
    # Never the learner's file name: it may reveal more than it should, or clash.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"submissions/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"


class SubmissionQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=Submission.Status.PENDING)

    def for_trainer(self, trainer):
        """Submissions on the modules the trainer owns in Wagtail."""
        return self.filter(module__owner=trainer)

    def gradable_by(self, user):
        """What `user` may read and grade: their modules' answers, and every answer for
        the team's graders, so that a module whose owner left strands no learner; never
        their own (a trainer or team member taking a track)."""
        answers = self if grades_any_submission(user) else self.for_trainer(user)
        return answers.exclude(learner=user)

    def for_the_team(self):
        """Answers on modules nobody can grade but the team: owner deleted, gone, or no
        longer a trainer (the grading pages are trainers' and staff's), or the owner's
        own answers (a trainer taking their own track does not grade themselves)."""
        from learners.models import User

        return self.filter(
            models.Q(learner=models.F("module__owner"))
            | models.Q(module__owner__isnull=True)
            | models.Q(module__owner__is_active=False)
            | models.Q(module__owner__erased_at__isnull=False)
            | (
                ~models.Q(module__owner__role=User.Role.TRAINER)
                & models.Q(module__owner__is_staff=False)
            )
        )


def grades_any_submission(user) -> bool:
    return bool(user.is_active and user.is_staff and user.has_perm("learners.change_submission"))


class Submission(models.Model):
    """Evidence a trainer grades: an open answer of a quiz, or a portfolio file."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        VALIDATED = "validated", _("Validated")
        REWORK = "rework", _("To be reworked")

    learner = models.ForeignKey(
        "learners.User",
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="submissions",
    )
    module = models.ForeignKey(
        ModulePage, verbose_name=_("module"), on_delete=models.PROTECT, related_name="submissions"
    )
    attempt = models.ForeignKey(
        Attempt, null=True, blank=True, on_delete=models.CASCADE, related_name="submissions"
    )
    question_id = models.CharField(max_length=64, blank=True)
    prompt = models.TextField(_("question"), blank=True)
    # The question's « what the trainer expects », frozen with it: the grader reads it,
    # and so does the learner once her answer is reviewed.
    expected = models.TextField(_("what the trainer expects"), blank=True)
    competence = models.ForeignKey(
        Competence, verbose_name=_("competence"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("answer"), blank=True)
    file = models.FileField(_("file"), upload_to=submission_path, blank=True)
    file_name = models.CharField(_("original file name"), max_length=255, blank=True)
    file_type = models.CharField(_("file type"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    graded_by = models.ForeignKey(
        "learners.User",
        verbose_name=_("graded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="submissions_graded",
    )
    graded_at = models.DateTimeField(_("graded at"), null=True, blank=True)
    level = models.ForeignKey(
        Level,
        verbose_name=_("level"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    comment = models.TextField(_("comment"), blank=True)
    learner_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["submitted_at", "pk"]
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")

    def __str__(self) -> str:
        return f"{self.learner} · {self.module} · {self.get_status_display()}"

    @property
    def aimed_level_id(self) -> int | None:
        """The level its author wrote the question for, as the attempt froze it: the
        grader judges against it, and the rubric says which it is."""
        if self.attempt is None:
            return None
        question = next((q for q in self.attempt.questions if q["id"] == self.question_id), None)
        return question.get("level_id") if question else None


class GradingCorrection(models.Model):
    """A grading as it stood before a trainer corrected it, and why it was corrected.

    The submission carries the grading in force; these rows keep each one it
    replaced, so that what the learner was told, and when, stays on record.
    """

    submission = models.ForeignKey(
        Submission,
        verbose_name=_("submission"),
        on_delete=models.CASCADE,
        related_name="corrections",
    )
    corrected_by = models.ForeignKey(
        "learners.User",
        verbose_name=_("corrected by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    corrected_at = models.DateTimeField(_("corrected at"), default=timezone.now)
    reason = models.TextField(_("reason for the correction"))
    previous_status = models.CharField(
        _("previous decision"), max_length=12, choices=Submission.Status.choices
    )
    previous_level = models.ForeignKey(
        Level,
        verbose_name=_("previous level"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    previous_comment = models.TextField(_("previous comment"), blank=True)
    previous_graded_by = models.ForeignKey(
        "learners.User",
        verbose_name=_("previously graded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    previous_graded_at = models.DateTimeField(_("previously graded at"), null=True, blank=True)
    # Whether the grading it replaced had been mailed: a correction made while that
    # mail still waited is, for the learner, her first grading, not a rectified one.
    learner_was_told = models.BooleanField(_("the learner had been told of it"), default=True)

    class Meta:
        ordering = ["corrected_at", "pk"]
        verbose_name = _("grading correction")
        verbose_name_plural = _("grading corrections")

    def __str__(self) -> str:
        return f"{self.submission} · {self.corrected_at:%Y-%m-%d}"


class SatisfactionQuerySet(models.QuerySet):
    def for_trainer(self, trainer):
        return self.filter(module__owner=trainer)


class Satisfaction(models.Model):
    """« À chaud » satisfaction at the end of a module (Qualiopi indicator 30)."""

    learner = models.ForeignKey(
        "learners.User", on_delete=models.CASCADE, related_name="satisfactions"
    )
    module = models.ForeignKey(ModulePage, on_delete=models.PROTECT, related_name="satisfactions")
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SatisfactionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["learner", "module"], name="satisfaction_once"),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="satisfaction_rating_1_5"
            ),
        ]
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")

    def __str__(self) -> str:
        return f"{self.module} · {self.rating}/5"
