"""Certification listens to learners' progress and issues what was earned.

learners sends its signals after commit, once per actual change; these
receivers only evaluate awards and issue, the PDF follows in a task.
"""

from django.dispatch import receiver

from certification import evidence, services
from certification.models import EvidencePack
from courses.models import ModulePage, TrackPage
from learners import queries
from learners.signals import (
    account_erased,
    attempt_outcome_recorded,
    competence_changed,
    learner_named,
    module_completed,
    submission_graded,
    track_completed,
)

# A passed quiz completes its module on the learner's request, and its ledger
# evidence follows in a task. An attestation freezes the levels reached when it is
# issued: issued in between, it said « — » for what the quiz had just proved. So a
# completion whose quiz evidence is still pending waits, and the evidence's own
# signal evaluates the module and its track (issuing is idempotent). So does one
# with open answers no trainer has graded yet, until the grading's signal.


@receiver(module_completed, dispatch_uid="certification.module_completed")
def issue_module_awards(sender, learner, module, **kwargs) -> None:
    # An erased account earns nothing more (a late grading, a catch-up task).
    if learner.erased_at is None and not queries.evidence_pending(learner, [module]):
        services.evaluate_module(learner, module)


@receiver(competence_changed, dispatch_uid="certification.competence_changed")
def issue_competence_awards(sender, learner, competence, level=None, **kwargs) -> None:
    if learner.erased_at is None:
        services.evaluate_competence(learner, competence)


@receiver(track_completed, dispatch_uid="certification.track_completed")
def issue_track_awards(sender, learner, track, **kwargs) -> None:
    if learner.erased_at is None:
        _evaluate_track(learner, track)


@receiver(attempt_outcome_recorded, dispatch_uid="certification.attempt_outcome_recorded")
def issue_awards_the_evidence_completes(sender, learner, attempt, **kwargs) -> None:
    # A retake too: it may settle an answer sent back for rework. Issuing is
    # idempotent, and a revoked attestation stays revoked (services.issue).
    if learner.erased_at is None:
        _evaluate_module_and_track(learner, attempt.module)


@receiver(submission_graded, dispatch_uid="certification.submission_graded")
def issue_awards_the_grading_completes(sender, learner, submission, **kwargs) -> None:
    # A rework request settles nothing for the module's attestation (eligibility
    # says so), but the track's attestations state results, whatever they are.
    if learner.erased_at is None:
        _evaluate_module_and_track(learner, submission.module)


@receiver(account_erased, dispatch_uid="certification.account_erased")
def rebuild_evidence_without_the_erased(sender, learner, session_ids, **kwargs) -> None:
    # A pack names who asked for it, too.
    requested = EvidencePack.objects.filter(requested_by=learner).values_list(
        "session_id", flat=True
    )
    evidence.rebuild_without_erased(sorted(set(session_ids) | set(requested)))


@receiver(learner_named, dispatch_uid="certification.learner_named")
def issue_what_waited_for_a_name(sender, learner, **kwargs) -> None:
    services.issue_what_was_earned(learner)


def _evaluate_module_and_track(learner, module: ModulePage) -> None:
    if not queries.evidence_pending(learner, [module]):
        services.evaluate_module(learner, module)
    track = TrackPage.objects.parent_of(module).first()
    if track is not None:
        _evaluate_track(learner, track)


def _evaluate_track(learner, track: TrackPage) -> None:
    # While evidence is pending, only what freezes no level (the certificat de réalisation).
    pending = queries.evidence_pending(learner, ModulePage.objects.child_of(track))
    services.evaluate_track(learner, track, evidence_pending=pending)
