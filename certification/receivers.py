"""Certification listens to learners' progress and issues what was earned.

learners sends its signals after commit, once per actual change; these
receivers only evaluate awards and issue, the PDF follows in a task.
"""

from django.dispatch import receiver

from certification import services
from learners.signals import competence_changed, module_completed, track_completed


@receiver(module_completed, dispatch_uid="certification.module_completed")
def issue_module_awards(sender, learner, module, **kwargs) -> None:
    services.evaluate_module(learner, module)


@receiver(competence_changed, dispatch_uid="certification.competence_changed")
def issue_competence_awards(sender, learner, competence, level=None, **kwargs) -> None:
    services.evaluate_competence(learner, competence)


@receiver(track_completed, dispatch_uid="certification.track_completed")
def issue_track_awards(sender, learner, track, **kwargs) -> None:
    services.evaluate_track(learner, track)
