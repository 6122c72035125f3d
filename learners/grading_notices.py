"""Telling graders that open answers wait for them.

An open answer holds the learner's module attestation until someone grades it
(docs/decisions.md): a trainer who never opens « Réponses à corriger » would keep
the learner waiting, unseen. So each attempt that leaves answers to grade mails
the module's owner, or the team's address when the team grades them (no active
owner, or the owner's own answers: `Submission.objects.for_the_team`).
"""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from learners.models import Submission


def _waiting(attempt_pk: int):
    return Submission.objects.pending().filter(attempt_id=attempt_pk)


def graders_address(attempt_pk: int) -> str:
    """Where the notice about this attempt's answers goes; "" when none waits."""
    answers = _waiting(attempt_pk)
    first = answers.select_related("module__owner").first()
    if first is None:
        return ""
    if answers.for_the_team().exists():
        return settings.CAMPUS_CONTACT_EMAIL
    return first.module.owner.email


def tell_graders(attempt_pk: int) -> bool:
    """Mail the attempt's graders; False when nothing waits any more (graded, erased)."""
    answers = list(_waiting(attempt_pk).select_related("learner", "module__owner"))
    address = graders_address(attempt_pk)
    if not answers or not address:
        return False
    first = answers[0]
    owner = first.module.owner
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "count": len(answers),
            "learner": first.learner.display_name,
            "module": first.module.title,
            # By name only when the owner grades them: the team's address is shared.
            "grader": owner.display_name if owner is not None and address == owner.email else "",
            "queue_url": settings.WAGTAILADMIN_BASE_URL.rstrip("/")
            + reverse("learners:grading_queue"),
        }
        send_mail(
            settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
            + render_to_string("learners/email/answers_to_review_subject.txt", context).strip(),
            render_to_string("learners/email/answers_to_review.txt", context),
            None,
            [address],
        )
    return True
