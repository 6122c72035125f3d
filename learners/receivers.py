"""What learners does when other models change (signals it sends live in signals.py)."""

from functools import partial

from allauth.account.signals import email_confirmed
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Page, PageLogEntry, PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from courses.authoring import TRAINERS_GROUP
from courses.models import LessonPage, ModulePage
from learners import cold_surveys, identity_checks, tasks
from learners.models import User
from learners.signals import track_completed


@receiver(post_save, sender=User, dispatch_uid="learners.sync_trainer_group")
def sync_trainer_group(sender, instance: User, created: bool, update_fields, raw: bool, **kwargs):
    # A receiver, not User.save(): the model stays free of Wagtail's permission
    # bookkeeping. Membership follows the role, so a demoted trainer loses access.
    if raw or (update_fields is not None and "role" not in update_fields):
        return  # fixtures, or a save that cannot have changed the role (e.g. last_login)
    if instance.role == User.Role.TRAINER and instance.erased_at is None:
        # An erased trainer's groups were cleared with the rest: none comes back.
        group, _ = Group.objects.get_or_create(name=TRAINERS_GROUP)
        instance.groups.add(group)
    elif not created:
        instance.groups.remove(*Group.objects.filter(name=TRAINERS_GROUP))


@receiver(email_confirmed, dispatch_uid="learners.identity_confirmed_by_mail")
def identity_confirmed_by_mail(sender, request, email_address, **kwargs) -> None:
    # A link mailed to her address, as a sign-in code is: proof of identity just now for
    # « confirm it's you » (learners/identity_checks.py). allauth records none for the
    # sign-in that follows a confirmation, and the name she just typed at sign-up would
    # otherwise need one to be corrected.
    if request is not None and request.user.pk in (None, email_address.user_id):
        identity_checks.mark_confirmed(request)


@receiver(track_completed, dispatch_uid="learners.schedule_cold_survey")
def schedule_cold_survey(sender, learner: User, track, **kwargs) -> None:
    # Three months on, the learner is asked what the training changed (indicator 30).
    cold_surveys.schedule(learner, track)


# --- Requirements that shrink ------------------------------------------------------
# A lesson or a module that leaves its parent (unpublished, deleted, moved), a quiz
# taken out of its module, a lesson restricted to some: each may have been the last
# thing a learner lacked, and her completion is recorded now, not never.


def _complete_on_commit(parent_pk: int | None) -> None:
    if parent_pk is not None:
        transaction.on_commit(partial(_complete_now_or_later, parent_pk))


def _complete_now_or_later(parent_pk: int) -> None:
    if not tasks.enqueue(tasks.complete_what_is_now_met, parent_pk):
        # No broker: done here rather than lost (a few queries per learner concerned).
        tasks.complete_what_is_now_met.apply(args=(parent_pk,))


def _parent_pk(page: Page) -> int | None:
    parent_path = page.path[: -Page.steplen]
    return Page.objects.filter(path=parent_path).values_list("pk", flat=True).first()


@receiver(page_unpublished, dispatch_uid="learners.complete_after_unpublish")
def complete_after_unpublish(sender, instance: Page, **kwargs) -> None:
    if isinstance(instance, LessonPage | ModulePage):
        _complete_on_commit(_parent_pk(instance))


@receiver(post_delete, sender=LessonPage, dispatch_uid="learners.complete_after_lesson_delete")
@receiver(post_delete, sender=ModulePage, dispatch_uid="learners.complete_after_module_delete")
def complete_after_delete(sender, instance: Page, **kwargs) -> None:
    _complete_on_commit(_parent_pk(instance))


@receiver(post_page_move, dispatch_uid="learners.complete_after_move")
def complete_after_move(
    sender, instance: Page, parent_page_before: Page, parent_page_after: Page, **kwargs
) -> None:
    # Sent for a reordering within the parent too, and with the page not always specific.
    moved_out = parent_page_before.pk != parent_page_after.pk
    if moved_out and issubclass(sender, LessonPage | ModulePage):
        _complete_on_commit(parent_page_before.pk)


def _had_a_quiz_before(module: ModulePage, revision) -> bool:
    """Whether the module's publication before `revision` asked a quiz."""
    previous = (
        PageLogEntry.objects.filter(page=module, action="wagtail.publish", revision__isnull=False)
        .exclude(revision=revision)
        .select_related("revision")
        .order_by("-timestamp", "-pk")
        .first()
    )
    return previous is not None and previous.revision.as_object().has_quiz


@receiver(page_published, dispatch_uid="learners.complete_after_quiz_removed")
def complete_after_quiz_removed(sender, instance: Page, revision=None, **kwargs) -> None:
    # Published without the quiz it had: its lessons alone complete it now. Only then:
    # every publication would otherwise look again at all its learners under way.
    if (
        isinstance(instance, ModulePage)
        and not instance.has_quiz
        and _had_a_quiz_before(instance, revision)
    ):
        _complete_on_commit(instance.pk)


def _restricted_lesson(restriction: PageViewRestriction) -> None:
    # A restricted lesson counts for nobody it hides from (learners/lessons_left.py).
    if isinstance(restriction.page.specific_deferred, LessonPage):
        _complete_on_commit(_parent_pk(restriction.page))


@receiver(post_save, sender=PageViewRestriction, dispatch_uid="learners.complete_after_restriction")
def complete_after_restriction(sender, instance: PageViewRestriction, raw: bool, **kwargs) -> None:
    # A password hides the lesson from everyone. A groups restriction is saved before its
    # groups (Wagtail's privacy form): read then, it would hide the lesson from its own
    # group's members too, and complete them; its groups say whom it hides from.
    if not raw and instance.restriction_type == PageViewRestriction.PASSWORD:
        _restricted_lesson(instance)


@receiver(
    m2m_changed,
    sender=PageViewRestriction.groups.through,
    dispatch_uid="learners.complete_after_restriction_groups",
)
def complete_after_restriction_groups(
    sender, instance, action: str, reverse: bool, **kwargs
) -> None:
    if not reverse and action in ("post_add", "post_remove", "post_clear"):
        _restricted_lesson(instance)
