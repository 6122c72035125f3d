"""Qualiopi evidence gathered along the way.

Satisfaction « à froid » (indicator 30), feedback from trainers and funders
(indicator 30), the improvement log (indicator 32), the public indicators of a
track (indicators 2 and 3) and accommodation requests (indicator 26).
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import TrackPage
from learners.session_models import TrainingSession

# Twice the time at most (triple the limit): past that, a timed quiz is better
# replaced by an untimed one, which the trainer sets on the module.
MAX_EXTRA_TIME_PERCENT = 200


def new_survey_token() -> str:
    return secrets.token_urlsafe(32)


def _rating_field(verbose_name):
    return models.PositiveSmallIntegerField(
        verbose_name,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )


class ColdSurveyQuerySet(models.QuerySet):
    def answered(self):
        return self.filter(answered_at__isnull=False)


class ColdSurvey(models.Model):
    """The « à froid » questionnaire a learner receives 3 months after completing a track.

    One row per learner and track, created with the completion; `due_at` fixes
    when it is sent, so time travel in tests and a late beat both work.
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="cold_surveys",
    )
    track = models.ForeignKey(
        TrackPage, verbose_name=_("track"), on_delete=models.PROTECT, related_name="cold_surveys"
    )
    session = models.ForeignKey(
        TrainingSession,
        verbose_name=_("session"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cold_surveys",
    )
    token = models.CharField(max_length=64, unique=True, default=new_survey_token)
    due_at = models.DateTimeField(_("due at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    rating = _rating_field(_("overall satisfaction"))
    usefulness = _rating_field(_("usefulness in your work"))
    applied = models.BooleanField(_("put into practice"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    objects = ColdSurveyQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "track"], name="cold_survey_once"),
        ]
        indexes = [models.Index(fields=["sent_at", "due_at"])]
        verbose_name = _("« à froid » satisfaction survey")
        verbose_name_plural = _("« à froid » satisfaction surveys")

    def __str__(self) -> str:
        return f"{self.learner} · {self.track}"


class Feedback(models.Model):
    """An appraisal of a track or session by one of its trainers or its funder."""

    class Respondent(models.TextChoices):
        TRAINER = "trainer", _("Trainer")
        FUNDER = "funder", _("Funder")

    track = models.ForeignKey(
        TrackPage, verbose_name=_("track"), on_delete=models.PROTECT, related_name="feedback"
    )
    session = models.ForeignKey(
        TrainingSession,
        verbose_name=_("session"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback",
    )
    respondent = models.CharField(_("respondent"), max_length=10, choices=Respondent.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback_given",
    )
    author_name = models.CharField(_("name"), max_length=150)
    organisation_name = models.CharField(_("organisation"), max_length=200, blank=True)
    rating = _rating_field(_("overall satisfaction"))
    strengths = models.TextField(_("what worked well"), blank=True)
    improvements = models.TextField(_("what should improve"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        # One funder and one feedback per trainer for a session: a form sent twice at
        # once (a double click, two people holding the funder link) edits one row.
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=models.Q(respondent="funder"),
                name="feedback_one_funder_per_session",
            ),
            models.UniqueConstraint(
                fields=["session", "author"],
                condition=models.Q(respondent="trainer"),
                name="feedback_one_per_trainer_and_session",
            ),
        ]
        # The results page (learners/quality_views.py) gathers satisfaction and feedback.
        permissions = [("view_quality_results", _("Can see the satisfaction results"))]

    def __str__(self) -> str:
        return f"{self.get_respondent_display()} · {self.track}"


class ImprovementAction(models.Model):
    """One line of the improvement log staff keep (Qualiopi indicator 32)."""

    class Source(models.TextChoices):
        SATISFACTION = "satisfaction", _("Satisfaction survey")
        FEEDBACK = "feedback", _("Trainer or funder feedback")
        COMPLAINT = "complaint", _("Complaint")
        INCIDENT = "incident", _("Incident")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")

    track = models.ForeignKey(
        TrackPage,
        verbose_name=_("track"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="improvement_actions",
    )
    session = models.ForeignKey(
        TrainingSession,
        verbose_name=_("session"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="improvement_actions",
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    finding = models.TextField(_("finding"))
    action = models.TextField(_("action decided"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    done_at = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        ordering = ["-recorded_at", "pk"]
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement log")

    def __str__(self) -> str:
        return self.finding[:80]

    def clean(self) -> None:
        # What an auditor reads: an action « done » says when, one still to do says nothing.
        if self.status == self.Status.DONE and not self.done_at:
            raise ValidationError({"done_at": _("Give the date the action was done.")})
        if self.status != self.Status.DONE and self.done_at:
            raise ValidationError(
                {
                    "done_at": _(
                        "An action not done yet has no date of completion: mark it done, "
                        "or empty the date."
                    )
                }
            )


class TrackIndicators(models.Model):
    """The public figures of a track, computed nightly (Qualiopi indicators 2 and 3).

    Rates are kept with the number of answers they come from, so a page can say
    « too few answers to publish » instead of a misleading percentage.
    """

    track = models.OneToOneField(
        TrackPage, verbose_name=_("track"), on_delete=models.CASCADE, related_name="indicators"
    )
    people_trained = models.PositiveIntegerField(_("people trained"), default=0)
    satisfaction_rate = models.DecimalField(
        _("satisfaction rate (%)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    satisfaction_answers = models.PositiveIntegerField(_("satisfaction answers"), default=0)
    success_rate = models.DecimalField(
        _("success rate (%)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    success_base = models.PositiveIntegerField(_("learners assessed"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("track indicators")
        verbose_name_plural = _("track indicators")

    def __str__(self) -> str:
        return f"{self.track} · {self.computed_at:%d/%m/%Y}"


class AccommodationRequestQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status=AccommodationRequest.Status.ANSWERED)

    def extra_time_percent(self, learner_id: int, track_ids) -> int:
        """The extra time granted to the learner on these tracks' timed quizzes (0: none).

        `track_ids`: ids, or a query of them (then read in the same query)."""
        granted = self.filter(
            learner_id=learner_id,
            track_id__in=track_ids,
            status=AccommodationRequest.Status.ANSWERED,
        ).aggregate(most=models.Max("extra_time_percent"))["most"]
        return granted or 0

    def notes_for_trainers(self, session) -> dict[int, list[str]]:
        """Learner id → what the answered requests on `session`'s track tell its trainers."""
        notes: dict[int, list[str]] = {}
        rows = (
            self.filter(
                track_id=session.track_id,
                status=AccommodationRequest.Status.ANSWERED,
                note_agreed=True,
                learner_id__in=session.seats.values("learner_id"),
            )
            .filter(models.Q(session__isnull=True) | models.Q(session=session))
            .exclude(note_for_trainers="")
            .order_by("answered_at", "pk")
            .values_list("learner_id", "note_for_trainers")
        )
        for learner_id, note in rows:
            notes.setdefault(learner_id, []).append(note)
        return notes


class AccommodationRequest(models.Model):
    """A learner's request for an accommodation because of a disability (indicator 26).

    Only the learner, the track's disability referent and staff see it; her session's
    trainers read only the note written for them, once she agreed to it.
    """

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("Being handled")
        ANSWERED = "answered", _("Answered")

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="accommodation_requests",
    )
    track = models.ForeignKey(
        TrackPage,
        verbose_name=_("track"),
        on_delete=models.PROTECT,
        related_name="accommodation_requests",
    )
    session = models.ForeignKey(
        TrainingSession,
        verbose_name=_("session"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accommodation_requests",
    )
    need = models.TextField(_("need"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW
    )
    answer = models.TextField(_("answer"), blank=True)
    # The usual accommodation of a timed test; it applies once the request is answered.
    extra_time_percent = models.PositiveSmallIntegerField(
        _("extra time on timed quizzes (%)"),
        default=0,
        validators=[MaxValueValidator(MAX_EXTRA_TIME_PERCENT)],
        help_text=_(
            "Added to the time limit of every timed quiz of the track once the request is "
            "answered: 33 for the usual « tiers-temps », 0 for none."
        ),
    )
    # The need is health data and stays with the referent; trainers must still know what
    # to provide in the room (a seat near the door, documents in large print).
    note_for_trainers = models.TextField(
        _("for the session's trainers"),
        blank=True,
        help_text=_(
            "Shown to the trainers of the learner's sessions of this track, on their "
            "attendance page while they may record it, once the request is answered, and "
            "to the learner on her requests page. Write what they must provide, never the "
            "need itself."
        ),
    )
    note_agreed = models.BooleanField(
        _("the learner agreed to this note being shown to her trainers"),
        default=False,
        help_text=_("Without her agreement, the note stays with the referent."),
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    objects = AccommodationRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="answered") | Q(answered_at__isnull=False),
                name="accommodation_answered_has_date",
            ),
        ]
        verbose_name = _("accommodation request")
        verbose_name_plural = _("accommodation requests")

    def __str__(self) -> str:
        return f"{self.learner} · {self.track}"
