"""Feedback on a session from its trainers and its funder (Qualiopi indicator 30).

Trainers give theirs logged in. A funder has no account: staff hand them a
signed link naming the session, which is the only capability it carries.
"""

import datetime

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse

from courses.models import ModulePage
from learners.models import User
from learners.quality_models import Feedback
from learners.session_models import TrainingSession

FUNDER_LINK_SALT = "learners.feedback.funder"
# A funder answers within months of a session; a link forwarded years later,
# which nobody can revoke, should no longer add to the evidence.
FUNDER_LINK_MAX_AGE = datetime.timedelta(days=365)


def funder_token(session: TrainingSession) -> str:
    return signing.dumps(session.pk, salt=FUNDER_LINK_SALT)


def funder_url(session: TrainingSession) -> str:
    return settings.SITE_URL + reverse("learners:funder_feedback", args=[funder_token(session)])


def session_pk_from_funder_token(token: str) -> int | None:
    """The session a funder link names, or None when it was not signed by us."""
    try:
        pk = signing.loads(token, salt=FUNDER_LINK_SALT, max_age=FUNDER_LINK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired included
        return None
    return pk if isinstance(pk, int) else None


def may_give_trainer_feedback(user: User, session: TrainingSession) -> bool:
    """Trainers of the session, and authors of a live module of its track (a draft
    anyone may add is no part in the training)."""
    if not user.is_authenticated:
        return False
    if session.trainers.filter(pk=user.pk).exists():
        return True
    return ModulePage.objects.child_of(session.track).live().filter(owner=user).exists()


def trainer_feedback_of(user: User, session: TrainingSession) -> Feedback:
    """The trainer's feedback on the session, or a new unsaved one: a trainer keeps one
    feedback per session and may come back to complete it."""
    existing = (
        Feedback.objects.filter(
            session=session, author=user, respondent=Feedback.Respondent.TRAINER
        )
        .order_by("pk")
        .first()
    )
    return existing or Feedback(
        track_id=session.track_id,
        session=session,
        respondent=Feedback.Respondent.TRAINER,
        author=user,
    )


def save_trainer_feedback(feedback: Feedback) -> Feedback:
    # The name is frozen at the time of writing, as on a paper form.
    feedback.author_name = feedback.author.display_name if feedback.author else ""
    return _save_once(feedback, author=feedback.author)


def save_funder_feedback(feedback: Feedback) -> Feedback:
    return _save_once(feedback)


def _save_once(feedback: Feedback, **respondent) -> Feedback:
    """Save; when another request stored this respondent's first answers a moment ago
    (the database keeps one), the answers sent last replace them, as an edit would."""
    try:
        with transaction.atomic():
            feedback.save()
    except IntegrityError:
        if feedback.pk is not None:
            raise
        stored = Feedback.objects.get(
            session=feedback.session, respondent=feedback.respondent, **respondent
        )
        feedback.pk, feedback.created_at = stored.pk, stored.created_at
        feedback.save(force_update=True)
    return feedback


def funder_feedback_for(session: TrainingSession) -> Feedback:
    """The funder's feedback on the session, or a new unsaved one. The link is one per
    session: whoever holds it comes back to the same answers rather than adding a
    funder to the results with each visit (a forwarded link inflated them)."""
    existing = (
        Feedback.objects.filter(session=session, respondent=Feedback.Respondent.FUNDER)
        .order_by("pk")
        .first()
    )
    return existing or Feedback(
        track_id=session.track_id, session=session, respondent=Feedback.Respondent.FUNDER
    )
