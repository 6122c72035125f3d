"""Operations on a learner's journey: enrol, progress, competence ledger, erasure."""

from collections.abc import Callable
from datetime import timedelta
from functools import partial

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.models import Page

from courses.models import Competence, LessonPage, Level, ModulePage, TrackPage
from learners import activity, sign_in_records
from learners.lessons_left import lessons_left
from learners.models import (
    AccommodationRequest,
    Attempt,
    Enrolment,
    LedgerEntry,
    LessonProgress,
    ModuleCompletion,
    TrackCompletion,
    User,
)
from learners.queries import (
    covering_enrolment,
    derived_ranks,
    learners_of,
    missing_prerequisites,
    trainer_competences,
    trainer_modules_for,
)
from learners.session_models import ActivityEvent
from learners.signals import (
    account_erased,
    competence_changed,
    module_completed,
    track_completed,
)


class JourneyRefused(Exception):
    """A refusal the person can act upon: `str(error)` is the message to show them."""


class PrerequisitesMissing(JourneyRefused):
    def __init__(self, missing: list[ModulePage]):
        self.missing = missing
        names = ", ".join(f"« {module.title} »" for module in missing)
        super().__init__(
            ngettext(
                "Complete this module first: %(modules)s.",
                "Complete these modules first: %(modules)s.",
                len(missing),
            )
            % {"modules": names}
        )


class NotEnrolled(JourneyRefused):
    def __init__(self):
        super().__init__(_("Enrol in this module or its track to record your progress."))


# --- Enrolment -------------------------------------------------------------------


def _target_field(page: TrackPage | ModulePage) -> str:
    if isinstance(page, TrackPage):
        return "track"
    if isinstance(page, ModulePage):
        return "module"
    raise TypeError(f"Learners enrol in a track or a module, not in {type(page).__name__}.")


def enrol(learner: User, page: TrackPage | ModulePage) -> tuple[Enrolment, bool]:
    """Enrol `learner` in a track or a single module; a second call returns the active enrolment.

    A module the learner already follows through its track returns the track's
    enrolment. Raises `PrerequisitesMissing`, naming the modules to complete first.
    """
    field = _target_field(page)
    if field == "track":
        existing = Enrolment.objects.active().filter(learner=learner, track=page).first()
    else:
        existing = covering_enrolment(learner, page)
    if existing is not None:
        return existing, False
    missing = missing_prerequisites(learner, page)
    if missing:
        raise PrerequisitesMissing(missing)
    try:
        with transaction.atomic():
            return Enrolment.objects.create(learner=learner, **{field: page}), True
    except IntegrityError:
        # A concurrent request enrolled first: the partial unique constraint decided.
        return Enrolment.objects.active().get(learner=learner, **{field: page}), False


def leave(learner: User, page: TrackPage | ModulePage) -> bool:
    """Close the learner's enrolment in `page`; lessons done and ledger entries stay."""
    enrolment = (
        Enrolment.objects.active().filter(learner=learner, **{_target_field(page): page}).first()
    )
    return enrolment.leave() if enrolment else False


# --- Progress and completion -----------------------------------------------------


def assessment_passed(learner: User, module: ModulePage) -> bool | None:
    """Whether the learner passed the module's quiz; None when it has none."""
    if not module.has_quiz:
        return None
    return Attempt.objects.quizzes().filter(learner=learner, module=module, passed=True).exists()


def module_requirements_met(learner: User, module: ModulePage, quiz_passed: bool = False) -> bool:
    """Every live lesson done and, if the module has an assessment, the assessment passed.

    `quiz_passed`: the caller has just seen the learner pass the quiz (no need to look).
    """
    passed = True if quiz_passed else assessment_passed(learner, module)
    if passed is False:
        return False
    left = lessons_left(learner, module)
    if passed is None and not left.any_open:
        return False  # an empty module has nothing to complete yet
    return not left.any_to_do


@transaction.atomic
def mark_lesson_done(learner: User, lesson: LessonPage) -> bool:
    """Record that the learner finished `lesson`; False when it was already done.

    Raises `NotEnrolled` or `PrerequisitesMissing` when progress cannot be recorded.
    """
    module = ModulePage.objects.parent_of(lesson).first()
    if module is None or covering_enrolment(learner, module) is None:
        raise NotEnrolled()
    missing = missing_prerequisites(learner, module)
    # A prerequisite added after the learner completed the module does not lock her
    # out of it (a lesson added since stays hers to do), as its page says.
    if missing and not ModuleCompletion.objects.filter(learner=learner, module=module).exists():
        raise PrerequisitesMissing(missing)
    _, created = LessonProgress.objects.get_or_create(learner=learner, lesson=lesson)
    if created:
        activity.record(learner.pk, ActivityEvent.Kind.LESSON_DONE, page_id=lesson.pk)
        refresh_completion(learner, module)
    return created


# No savepoint of its own (two round trips): its callers are atomic and let an
# error roll everything back.
@transaction.atomic(savepoint=False)
def refresh_completion(learner: User, module: ModulePage, *, quiz_passed: bool = False) -> bool:
    """Record the module (and its track) as completed if their requirements are now met.

    Call it after anything that may complete a module (a lesson done, a passed
    assessment: `quiz_passed`). True only for the call that completed the
    module; the unique constraint on completions keeps the signals to one per change.
    """
    # The learner's row is locked first: two last lessons marked at the same moment
    # would each miss the other's uncommitted row and leave the module incomplete.
    # The second waits, then reads the first one's (PostgreSQL reads each statement
    # afresh; SQLite writes one transaction at a time).
    list(User.objects.select_for_update().filter(pk=learner.pk).values_list("pk"))
    # Requirements next: while lessons remain, that is the last query; get_or_create
    # then finds a completion recorded earlier.
    if not module_requirements_met(learner, module, quiz_passed):
        return False
    _, created = ModuleCompletion.objects.get_or_create(learner=learner, module=module)
    if not created:
        return False
    transaction.on_commit(
        partial(module_completed.send, sender=ModuleCompletion, learner=learner, module=module)
    )
    track = TrackPage.objects.parent_of(module).first()
    if track is not None:
        _refresh_track_completion(learner, track)
    return True


def _refresh_track_completion(learner: User, track: TrackPage) -> bool:
    modules = ModulePage.objects.live().child_of(track)
    if not modules.exists() or modules.exclude(completions__learner=learner).exists():
        return False
    _, created = TrackCompletion.objects.get_or_create(learner=learner, track=track)
    if created:
        transaction.on_commit(
            partial(track_completed.send, sender=TrackCompletion, learner=learner, track=track)
        )
    return created


def complete_what_is_now_met(page_pk: int) -> int:
    """Record the completions a module's or a track's shrunken requirements now allow.

    A lesson (or module) unpublished, deleted or moved away may have been the last
    one a learner lacked: nothing she does will call `refresh_completion` again.
    Only learners still following the page are looked at, and only while it is
    live. Returns how many were looked at again. A page gone meanwhile is nothing.
    """
    page = Page.objects.live().filter(pk=page_pk).specific().first()
    if isinstance(page, ModulePage):
        track = TrackPage.objects.parent_of(page).first()
        following = Enrolment.objects.active().filter(
            Q(module=page) | Q(track=track) if track is not None else Q(module=page)
        )
        # Anyone who did a lesson of it or passed its quiz; refresh_completion decides.
        started = LessonProgress.objects.filter(
            lesson__in=LessonPage.objects.child_of(page)
        ).values("learner_id")
        passed = Attempt.objects.quizzes().filter(module=page, passed=True).values("learner_id")
        stuck = (
            User.objects.filter(pk__in=following.values("learner_id"))
            .filter(Q(pk__in=started) | Q(pk__in=passed))
            .exclude(module_completions__module=page)
        )
        for learner in stuck:
            with transaction.atomic():
                refresh_completion(learner, page)
        return len(stuck)
    if isinstance(page, TrackPage):
        module_ids = list(ModulePage.objects.live().child_of(page).values_list("pk", flat=True))
        if not module_ids:
            return 0
        learner_ids = (
            ModuleCompletion.objects.filter(module_id__in=module_ids)
            .values("learner_id")
            .annotate(done=Count("module_id"))
            .filter(done=len(module_ids))
            .values("learner_id")
        )
        stuck = (
            User.objects.filter(pk__in=learner_ids)
            .filter(pk__in=Enrolment.objects.active().filter(track=page).values("learner_id"))
            .exclude(track_completions__track=page)
        )
        for learner in stuck:
            with transaction.atomic():
                list(User.objects.select_for_update().filter(pk=learner.pk).values_list("pk"))
                _refresh_track_completion(learner, page)
        return len(stuck)
    return 0


# --- Competence ledger -----------------------------------------------------------


def record_evidence(
    learner: User,
    competence: Competence,
    level: Level,
    source: str,
    *,
    validated_by: User | None = None,
    source_reference: str = "",
    comment: str = "",
) -> LedgerEntry:
    """Append one piece of evidence to the ledger and announce the levels it changed.

    `competence_changed` is sent after commit for each competence whose derived
    level rose (the competence itself, and those a crosswalk carries it to);
    evidence below the current level changes nothing and sends nothing.
    """
    if level.framework_id != competence.block.framework_id:
        raise ValueError("The level must belong to the competence's framework.")
    with transaction.atomic():
        # Serialise ledger writes per learner (PostgreSQL row lock), so that two
        # concurrent entries cannot both compare against the same "before".
        list(User.objects.select_for_update().filter(pk=learner.pk).values_list("pk"))
        before = derived_ranks(learner)
        entry = LedgerEntry.objects.create(
            learner=learner,
            competence=competence,
            level=level,
            source=source,
            validated_by=validated_by,
            source_reference=source_reference,
            comment=comment,
        )
        after = derived_ranks(learner)
        changed = {pk: rank for pk, rank in after.items() if before.get(pk) != rank}
        if changed:
            _announce_levels(learner, changed)
    return entry


def _announce_levels(learner: User, changed: dict[int, int]) -> None:
    competences = list(Competence.objects.filter(pk__in=changed).select_related("block"))
    levels = {
        (level.framework_id, level.rank): level
        for level in Level.objects.filter(
            framework_id__in={c.block.framework_id for c in competences}
        )
    }
    for competence in competences:
        level = levels.get((competence.block.framework_id, changed[competence.pk]))
        transaction.on_commit(
            partial(
                competence_changed.send,
                sender=LedgerEntry,
                learner=learner,
                competence=competence,
                level=level,
            )
        )


def retract_evidence(entry: LedgerEntry, by: User, reason: str) -> LedgerEntry:
    """Append the retraction of `entry`: from now on it counts for nothing.

    The entry stays, and the retraction says who withdrew it, when and why. The
    learner's levels are derived from what still stands: one may fall.
    Certificates already issued are frozen and stay as they are; staff see the
    ones issued before a retraction of their holder's (certification admin).
    Raises `ValueError` for a retraction or an entry already retracted.
    """
    if entry.source == LedgerEntry.Source.RETRACTION:
        raise ValueError("A retraction cannot itself be retracted.")
    with transaction.atomic():
        list(User.objects.select_for_update().filter(pk=entry.learner_id).values_list("pk"))
        if LedgerEntry.objects.filter(retracts=entry).exists():
            raise ValueError("This entry is already retracted.")
        # The learner's pages move on with the new row (learners/page_versions.py).
        retraction = LedgerEntry.objects.create(
            learner_id=entry.learner_id,
            competence_id=entry.competence_id,
            level_id=entry.level_id,
            source=LedgerEntry.Source.RETRACTION,
            validated_by=by,
            source_reference=entry.source_reference,
            comment=reason,
            retracts=entry,
        )
    return retraction


# The same validation sent again within this time is the same act, not a second one.
REPEATED_OBSERVATION_WINDOW = timedelta(minutes=10)


def record_observation(
    trainer: User, learner: User, competence: Competence, level: Level, comment: str
) -> LedgerEntry:
    """A trainer validates, by observation, a competence one of their modules targets."""
    if not learners_of(trainer).filter(pk=learner.pk).exists():
        raise PermissionError("This learner does not follow any of the trainer's modules.")
    modules = trainer_modules_for(trainer, learner)
    if not trainer_competences(trainer, modules).filter(pk=competence.pk).exists():
        raise PermissionError("None of the trainer's modules followed by the learner targets it.")
    with transaction.atomic():
        # The ledger is append-only: a form sent twice (a double click, a replayed
        # POST) must not leave two validations that can never be removed. Under the
        # learner's lock, so that two concurrent sends cannot both miss each other.
        list(User.objects.select_for_update().filter(pk=learner.pk).values_list("pk"))
        # Standing only: the same validation given again after its retraction is new.
        same = (
            LedgerEntry.objects.standing()
            .filter(
                learner=learner,
                competence=competence,
                level=level,
                source=LedgerEntry.Source.TRAINER,
                validated_by=trainer,
                source_reference="observation",
                comment=comment,
                recorded_at__gte=timezone.now() - REPEATED_OBSERVATION_WINDOW,
            )
            .first()
        )
        if same is not None:
            return same
        return record_evidence(
            learner,
            competence,
            level,
            LedgerEntry.Source.TRAINER,
            validated_by=trainer,
            source_reference="observation",
            comment=comment,
        )


# --- RGPD ------------------------------------------------------------------------


def _forget_in_admin_history(model, label: str, **entries) -> None:
    """Relabel the admin history's entries about `model` that `entries` finds (by object
    id, or by the label they were logged with)."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import ModelLogEntry

    ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model, for_concrete_model=False),
        **entries,
    ).update(label=label)


def _ids(objects) -> list[str]:
    return [str(pk) for pk in objects.values_list("pk", flat=True)]


@transaction.atomic
def erase_account(
    user: User, by: User | None = None, *, still_due: Callable[[], bool] | None = None
) -> bool:
    """Erase the person's personal data and deactivate the account; True if it did.

    `still_due`: the platform erases an account unused for its retention period
    (learners/inactive_accounts.py); asked again under the account's lock, it
    gives up if the account is no longer due (signed in since it was read).

    Progress, ledger entries, quiz scores, grades and satisfaction ratings stay,
    attached to the anonymised row, so that statistics, Qualiopi evidence and the
    evidence behind issued certificates remain true; what the person wrote
    (open answers, uploaded files, comments) goes (docs/decisions.md). Places in
    sessions still to come are given back to the waiting list. Certificates keep
    the name they were issued to for the legal retention period: certification
    owns them and does not react here.
    """
    from django.db.models import Q
    from wagtail.users.models import UserProfile

    from learners import sessions  # sessions imports this module
    from learners.models import (
        AccountSession,
        Attempt,
        AttemptAnswer,
        ColdSurvey,
        Feedback,
        Invitation,
        Satisfaction,
        Seat,
        Submission,
        UndeliveredMail,
        erased_address,
    )
    from learners.quality_models import new_survey_token
    from learners.session_models import Attendance, TrainingSession, new_attendance_token

    if user.erased_at is not None:
        return False  # done already: its date stays the day the request was carried out
    addresses = user.own_addresses()
    # First, while the account is still whole: a place freed promotes the next
    # person waiting, and a waiting seat must never be promoted into a dead account.
    # Sessions under way keep the seat: its signed half-days are attendance evidence.
    for seat in list(
        Seat.objects.active().filter(learner=user, session__starts_on__gt=timezone.localdate())
    ):
        try:
            sessions.cancel_seat(seat)
        except sessions.SeatRefused:
            continue  # cancelled or over meanwhile: nothing left to free
    # The personal sign-in link is a bearer credential; cold-survey links let
    # anyone with the mail answer in the person's name.
    for seat_pk in Seat.objects.filter(learner=user).values_list("pk", flat=True):
        Seat.objects.filter(pk=seat_pk).update(attendance_token=new_attendance_token())
    for survey_pk in ColdSurvey.objects.filter(learner=user).values_list("pk", flat=True):
        ColdSurvey.objects.filter(pk=survey_pk).update(token=new_survey_token())
    # Other browsers the person is signed in on.
    AccountSession.objects.filter(account=user).delete()
    # The organisation keeps the row (how many it invited, how many joined), not who.
    invited = Q(accepted_by=user)
    for address in addresses:
        invited |= Q(email__iexact=address)
    Invitation.objects.filter(invited).anonymise()
    # What the person wrote goes; the grade, level and ratings it earned stay as
    # evidence. Files go once the erasure is committed: a rollback keeps them.
    submissions = Submission.objects.filter(learner=user)
    files = [name for name in submissions.values_list("file", flat=True) if name]
    # Work nobody reviewed yet leaves the trainers' queues: grading an emptied answer
    # would record evidence, even certificates, for a person who is gone.
    submissions.filter(status=Submission.Status.PENDING).delete()
    submissions.update(text="", file="", file_name="", file_type="")
    AttemptAnswer.objects.filter(attempt__learner=user, score__isnull=True).update(answer=None)
    # A short answer is text she typed too (a name, a place): it goes, its score stays.
    for attempt in Attempt.objects.filter(learner=user).only("pk", "questions"):
        typed = [q["id"] for q in attempt.questions or [] if q.get("type") == "short_answer"]
        if typed:
            AttemptAnswer.objects.filter(attempt=attempt, question_id__in=typed).update(answer=None)
    Satisfaction.objects.filter(learner=user).update(comment="")
    ColdSurvey.objects.filter(learner=user).update(comment="")
    Feedback.objects.filter(author=user).update(author_name="")
    storage = Submission._meta.get_field("file").storage
    for name in files:
        # robust: the erasure is committed by then; a file the storage failed to
        # delete is logged, and must not turn the person's confirmation into an error.
        transaction.on_commit(partial(storage.delete, name), robust=True)

    # Mails waiting to be resent to the person: they asked to hear nothing more. Any of
    # her addresses: she may sign in with each.
    for address in addresses:
        UndeliveredMail.objects.filter(recipient__iexact=address).delete()
        # The admin's history labels a mail by its recipient, the mails staff deleted
        # before too (their rows are gone: found by the label).
        _forget_in_admin_history(
            UndeliveredMail,
            _("Undelivered email"),
            label__iendswith=UndeliveredMail.labelled_for(address),
        )
    EmailAddress.objects.filter(user=user).delete()
    # Login throttling keeps the address typed at login: it is personal data too.
    for records in sign_in_records.typed_with(addresses).values():
        records.delete()
    # A team member's photo, uploaded in the admin's account settings.
    for profile in UserProfile.objects.filter(user=user).exclude(avatar=""):
        transaction.on_commit(
            partial(profile.avatar.storage.delete, profile.avatar.name), robust=True
        )
    UserProfile.objects.filter(user=user).delete()
    # Health data, useless once the person is gone: statistics do not need it.
    requests = AccommodationRequest.objects.filter(learner=user)
    _forget_in_admin_history(
        AccommodationRequest, _("Accommodation request"), object_id__in=_ids(requests)
    )
    requests.delete()
    # Wagtail's history labels each entry with the object's name when it was logged.
    _forget_in_admin_history(User, _("Deleted account"), object_id__in=[str(user.pk)])
    Enrolment.objects.active().filter(learner=user).update(left_at=timezone.now())
    user.groups.clear()
    user.user_permissions.clear()

    # The account's row is locked last, as grading and accepting an invitation lock it
    # after their own rows (a submission, an invitation): locked first, it would wait for
    # theirs while they wait for it. Read again under the lock: a second confirmation
    # (a double click, the person and the team at once) undoes its own work and leaves
    # the first one's, and a certificate being issued (issue() takes the same lock)
    # either went before, or sees the erasure.
    locked = User.objects.select_for_update().filter(pk=user.pk).first()
    if (
        locked is None
        or locked.erased_at is not None
        or (still_due is not None and not still_due())
    ):
        transaction.set_rollback(True)
        return False
    user.email = erased_address()
    user.full_name = ""
    user.first_name = ""
    user.last_name = ""
    user.job_title = ""
    user.organisation = None
    user.proposed_organisation = None
    user.is_organisation_manager = False
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.erased_at = timezone.now()
    user.set_unusable_password()
    user.save()
    # Where the person appears in a session's evidence: as a learner, or as a trainer
    # of the session (the sheet and the pack's LISEZMOI name them), one who confirmed
    # half-days or wrote feedback.
    session_ids = (
        set(Seat.objects.filter(learner=user).values_list("session_id", flat=True))
        | set(TrainingSession.objects.filter(trainers=user).values_list("pk", flat=True))
        | set(
            Attendance.objects.filter(confirmed_by=user).values_list(
                "half_day__session_id", flat=True
            )
        )
        | set(
            Feedback.objects.filter(author=user, session__isnull=False).values_list(
                "session_id", flat=True
            )
        )
    )
    account_erased.send(sender=User, learner=user, session_ids=sorted(session_ids))
    # Who carried the request out, and when: the person themselves, or the team.
    from wagtail.log_actions import log

    if still_due is not None:
        log(instance=user, action="learners.erase_unused", user=None, title=_("Deleted account"))
    else:
        log(instance=user, action="learners.erase", user=by or user, title=_("Deleted account"))
    return True
