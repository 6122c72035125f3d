"""What learners does when other models change (signals it sends live in signals.py)."""

from django.contrib.auth.models import Group
from django.db.models.signals import post_save
from django.dispatch import receiver

from courses.authoring import TRAINERS_GROUP
from learners import cold_surveys
from learners.models import User
from learners.signals import track_completed


@receiver(post_save, sender=User, dispatch_uid="learners.sync_trainer_group")
def sync_trainer_group(sender, instance: User, created: bool, update_fields, raw: bool, **kwargs):
    # A receiver, not User.save(): the model stays free of Wagtail's permission
    # bookkeeping. Membership follows the role, so a demoted trainer loses access.
    if raw or (update_fields is not None and "role" not in update_fields):
        return  # fixtures, or a save that cannot have changed the role (e.g. last_login)
    if instance.role == User.Role.TRAINER:
        group, _ = Group.objects.get_or_create(name=TRAINERS_GROUP)
        instance.groups.add(group)
    elif not created:
        instance.groups.remove(*Group.objects.filter(name=TRAINERS_GROUP))


@receiver(track_completed, dispatch_uid="learners.schedule_cold_survey")
def schedule_cold_survey(sender, learner: User, track, **kwargs) -> None:
    # Three months on, the learner is asked what the training changed (indicator 30).
    cold_surveys.schedule(learner, track)
