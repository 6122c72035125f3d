import datetime
import secrets
import uuid
from functools import partial

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page

from courses.models import Competence, LessonPage, Level, ModulePage, TrackPage
from learners import insee
from learners.insee import validate_departement, validate_region, validate_siren


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class OrganisationQuerySet(models.QuerySet):
    def offered(self):
        """The organisations agents choose from when they sign up."""
        return self.filter(listing=Organisation.Listing.OFFERED)


class Organisation(models.Model):
    class Listing(models.TextChoices):
        OFFERED = "offered", _("Offered in the list")
        TO_CHECK = "to_check", _("Named at sign-up, to check")
        WITHDRAWN = "withdrawn", _("Withdrawn from sign-up")

    class Kind(models.TextChoices):
        COMMUNE = "commune", _("Municipality (commune)")
        EPCI = "epci", _("Inter-municipal body (EPCI)")
        DEPARTEMENT = "departement", _("Département")
        REGION = "region", _("Région")
        STATE_SERVICE = "etat", _("State service")
        PUBLIC_BODY = "etablissement_public", _("Public body")
        ASSOCIATION = "association", _("Association")
        TIERS_LIEU = "tiers_lieu", _("Tiers-lieu")
        OTHER = "autre", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("type"), max_length=32, choices=Kind.choices, default=Kind.OTHER)
    siren = models.CharField(
        _("SIREN"),
        max_length=9,
        blank=True,
        validators=[validate_siren],
    )
    departement = models.CharField(
        _("département (INSEE code)"),
        max_length=3,
        blank=True,
        validators=[validate_departement],
    )
    region = models.CharField(
        _("région (INSEE code)"),
        max_length=2,
        blank=True,
        validators=[validate_region],
        help_text=_("Filled from the département when left empty."),
    )
    # Anyone may name a new organisation at sign-up, and the sign-up page is public:
    # what they typed is offered to everyone only once the team has read it. Agents
    # who type its name meanwhile join it all the same (AgentSignupForm); once the
    # team withdraws it, nobody joins it by name any more.
    listing = models.CharField(
        _("at sign-up"),
        max_length=12,
        choices=Listing.choices,
        default=Listing.OFFERED,
        help_text=_(
            "An organisation named at sign-up waits for the team to check its name; agents "
            "who type that name meanwhile join it. Withdrawn: nobody chooses it or joins it "
            "by its name any more; its members stay."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # A learner's région comes from their organisation's: it must agree
        # with the département, which is what people know.
        departement = insee.departements().get(self.departement)
        if departement is None:
            return
        if not self.region:
            self.region = departement.region
        elif self.region != departement.region:
            raise ValidationError(
                {
                    "region": _("Département %(code)s is in région %(region)s.")
                    % {"code": departement.code, "region": departement.region}
                }
            )


class User(AbstractUser):
    """An account: email is the login; the profile lives on the same row."""

    class Role(models.TextChoices):
        FACILITATOR = "facilitator", _("Tiers-lieu facilitator")
        TRAINER = "trainer", _("Trainer")
        PUBLIC_AGENT = "public_agent", _("Public agent")

    username = None
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(
        _("name as it must appear on certificates"), max_length=150, blank=True
    )
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.FACILITATOR
    )
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    is_organisation_manager = models.BooleanField(_("manages their organisation"), default=False)
    # The organisation an agent's sign-up named, until the person herself says it is
    # hers: anyone may sign up with someone else's address (learners/organisations.py).
    proposed_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation named at sign-up, not confirmed yet"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set when the person erased their account (RGPD): the row stays so that
    # anonymised progress and ledger entries keep pointing somewhere.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True, editable=False)
    # When the person was told that her unused account would be erased
    # (learners/inactive_accounts.py); a sign-in since makes it void.
    inactivity_notice_at = models.DateTimeField(
        _("told of erasure for inactivity at"), null=True, blank=True, editable=False
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.erased_at:
            return gettext("Deleted account")
        return self.full_name or self.email

    def own_addresses(self) -> set[str]:
        """The addresses that are hers, lower-cased: the verified ones, and the account's
        own once she signed in with it (or when the team made the account, which has no
        address rows). Anyone may add someone else's address, or sign up with it, and
        never confirm it: what is kept or erased under it is not theirs."""
        from allauth.account.models import EmailAddress

        known = EmailAddress.objects.filter(user=self)
        addresses = {
            email.lower() for email in known.filter(verified=True).values_list("email", flat=True)
        }
        if self.last_login is not None or not known.exists():
            addresses.add(self.email.lower())
        return addresses

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        # As loaded: save() tells when a name is given to an account that had none.
        user._loaded_full_name = user.__dict__.get("full_name")
        return user

    def save(self, *args, **kwargs):
        # Wagtail's user admin edits first and last names; the certificate name
        # follows them until the person sets it themselves.
        if not self.full_name:
            self.full_name = f"{self.first_name} {self.last_name}".strip()
        update_fields = kwargs.get("update_fields")
        stored = update_fields is None or "full_name" in update_fields
        named = (
            stored
            and getattr(self, "_loaded_full_name", None) == ""
            and bool(self.full_name.strip())
        )
        super().save(*args, **kwargs)
        if stored:
            self._loaded_full_name = self.full_name
        if named:
            # Wherever the name comes from (her profile, an invitation, the team), what
            # waited for it (certificates print it) may follow, once it is stored.
            from learners.signals import learner_named

            transaction.on_commit(partial(learner_named.send, sender=User, learner=self))

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.first_name or self.display_name


def _parent_path(page: Page) -> str:
    return page.path[: -Page.steplen]


class EnrolmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(left_at__isnull=True)

    def for_learner(self, learner: User):
        return self.filter(learner=learner)

    def covering_module(self, module: ModulePage):
        """Enrolments that give access to `module`: in the module itself or in its track."""
        return self.filter(Q(module=module) | Q(track__path=_parent_path(module)))

    def in_modules_owned_by(self, trainer: User):
        """Enrolments in one of the trainer's live modules, or in a track that holds one.

        Live only: any trainer may add a draft module to any track (the moderation
        team publishes it), and a draft must not open the track's learners to them.
        """
        owned = ModulePage.objects.live().filter(owner=trainer)
        track_paths = {path[: -Page.steplen] for path in owned.values_list("path", flat=True)}
        return self.filter(
            Q(module__owner=trainer, module__live=True) | Q(track__path__in=track_paths)
        )


class Enrolment(models.Model):
    """A learner follows a whole track or a single module.

    Leaving sets `left_at` and keeps the row: enrolling again creates a new
    row, so the history of comings and goings stays readable.
    """

    learner = models.ForeignKey(
        User, verbose_name=_("learner"), on_delete=models.CASCADE, related_name="enrolments"
    )
    track = models.ForeignKey(
        TrackPage,
        verbose_name=_("track"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enrolments",
    )
    module = models.ForeignKey(
        ModulePage,
        verbose_name=_("module"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enrolments",
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), default=timezone.now)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        ordering = ["enrolled_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(track__isnull=False, module__isnull=True)
                    | Q(track__isnull=True, module__isnull=False)
                ),
                name="enrolment_track_xor_module",
            ),
            models.UniqueConstraint(
                fields=["learner", "track"],
                condition=Q(left_at__isnull=True, track__isnull=False),
                name="enrolment_one_active_per_track",
            ),
            models.UniqueConstraint(
                fields=["learner", "module"],
                condition=Q(left_at__isnull=True, module__isnull=False),
                name="enrolment_one_active_per_module",
            ),
        ]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")

    def __str__(self) -> str:
        return f"{self.learner} → {self.target}"

    @property
    def target(self) -> TrackPage | ModulePage:
        return self.track or self.module

    @property
    def is_active(self) -> bool:
        return self.left_at is None

    def leave(self) -> bool:
        """Close the enrolment; progress and ledger entries stay. False if already left."""
        if self.left_at is not None:
            return False
        self.left_at = timezone.now()
        self.save(update_fields=["left_at"])
        return True


class LessonProgress(models.Model):
    """A lesson the learner marked as done."""

    learner = models.ForeignKey(
        User, verbose_name=_("learner"), on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(
        LessonPage, verbose_name=_("lesson"), on_delete=models.CASCADE, related_name="progress"
    )
    done_at = models.DateTimeField(_("done at"), default=timezone.now)

    class Meta:
        ordering = ["done_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "lesson"], name="lesson_progress_unique")
        ]
        verbose_name = _("lesson done")
        verbose_name_plural = _("lessons done")

    def __str__(self) -> str:
        return f"{self.learner} ✓ {self.lesson}"


class ModuleCompletion(models.Model):
    """The fact that a learner met a module's requirements, and when.

    It is an event, not a cache: adding a lesson to the module later does not
    undo what the learner completed. The unique constraint is what makes
    `module_completed` fire once even when two requests race.
    """

    learner = models.ForeignKey(
        User, verbose_name=_("learner"), on_delete=models.CASCADE, related_name="module_completions"
    )
    module = models.ForeignKey(
        ModulePage, verbose_name=_("module"), on_delete=models.PROTECT, related_name="completions"
    )
    completed_at = models.DateTimeField(_("completed at"), default=timezone.now)

    class Meta:
        ordering = ["completed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "module"], name="module_completion_unique")
        ]
        verbose_name = _("module completion")
        verbose_name_plural = _("module completions")

    def __str__(self) -> str:
        return f"{self.learner} ✓ {self.module}"


class TrackCompletion(models.Model):
    """The fact that a learner completed every module of a track, and when."""

    learner = models.ForeignKey(
        User, verbose_name=_("learner"), on_delete=models.CASCADE, related_name="track_completions"
    )
    track = models.ForeignKey(
        TrackPage, verbose_name=_("track"), on_delete=models.PROTECT, related_name="completions"
    )
    completed_at = models.DateTimeField(_("completed at"), default=timezone.now)

    class Meta:
        ordering = ["completed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "track"], name="track_completion_unique")
        ]
        verbose_name = _("track completion")
        verbose_name_plural = _("track completions")

    def __str__(self) -> str:
        return f"{self.learner} ✓ {self.track}"


class LedgerIsAppendOnly(Exception):
    """Raised on any attempt to change or remove a ledger entry."""


class LedgerEntryQuerySet(models.QuerySet):
    # A ledger entry is evidence someone relied on: correcting it means adding
    # a new entry, never rewriting history. Bulk paths are closed as well.
    def update(self, **kwargs):
        raise LedgerIsAppendOnly("Ledger entries cannot be updated.")

    def delete(self):
        raise LedgerIsAppendOnly("Ledger entries cannot be deleted.")

    def for_learner(self, learner: User):
        return self.filter(learner=learner)

    def standing(self):
        """Evidence that still counts: neither a retraction nor retracted by one."""
        return self.exclude(source=LedgerEntry.Source.RETRACTION).filter(retraction__isnull=True)

    def best_ranks(self) -> dict[int, int]:
        """Highest level rank reached per competence id, from the evidence still standing."""
        return dict(
            self.standing()
            .order_by()
            .values("competence_id")
            .annotate(best=Max("level__rank"))
            .values_list("competence_id", "best")
        )


class LedgerEntry(models.Model):
    """One piece of validated evidence that a learner reached a level on a competence."""

    class Source(models.TextChoices):
        ASSESSMENT = "assessment", _("Assessment")
        SUBMISSION = "submission", _("Validated submission")
        POSITIONING = "positioning", _("Positioning test")
        TRAINER = "trainer_validation", _("Trainer validation")
        # A correction: the entry it names no longer counts (a grade corrected,
        # a validation given by mistake). Both stay, so the history reads true.
        RETRACTION = "retraction", _("Retraction")

    # PROTECT everywhere: an account with evidence is erased (anonymised), never deleted.
    learner = models.ForeignKey(
        User, verbose_name=_("learner"), on_delete=models.PROTECT, related_name="ledger_entries"
    )
    competence = models.ForeignKey(
        Competence,
        verbose_name=_("competence"),
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    level = models.ForeignKey(
        Level, verbose_name=_("level reached"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("source"), max_length=24, choices=Source.choices)
    validated_by = models.ForeignKey(
        User,
        verbose_name=_("validated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="validations_given",
    )
    source_reference = models.CharField(
        _("source reference"),
        max_length=255,
        blank=True,
        help_text=_("What the evidence comes from, e.g. an attempt or a submission."),
    )
    comment = models.TextField(_("comment"), blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    # One-to-one: an entry is retracted once at most, and a retraction names one entry.
    retracts = models.OneToOneField(
        "self",
        verbose_name=_("retracted entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="retraction",
    )

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["recorded_at", "pk"]
        indexes = [models.Index(fields=["learner", "competence"], name="ledger_learner_competence")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(source="retraction") & Q(retracts__isnull=False))
                | (~Q(source="retraction") & Q(retracts__isnull=True)),
                name="ledger_retraction_names_an_entry",
            )
        ]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")

    def __str__(self) -> str:
        return f"{self.learner} · {self.competence.code} · {self.level.label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise LedgerIsAppendOnly("Ledger entries cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerIsAppendOnly("Ledger entries cannot be deleted.")

    def clean(self) -> None:
        if (
            self.competence_id
            and self.level_id
            and self.level.framework_id != self.competence.block.framework_id
        ):
            raise ValidationError(
                {"level": _("The level must belong to the competence's framework.")}
            )
        if self.retracts_id is not None and (
            self.retracts.source == self.Source.RETRACTION
            or (self.retracts.learner_id, self.retracts.competence_id)
            != (self.learner_id, self.competence_id)
        ):
            raise ValidationError(
                {"retracts": _("A retraction names evidence of the same learner and competence.")}
            )


# `.invalid` is reserved (RFC 2606): an erased person's address never receives mail.
ERASED_DOMAIN = "@erased.invalid"


def erased_address() -> str:
    return f"erased-{uuid.uuid4().hex}{ERASED_DOMAIN}"


def new_invitation_token() -> str:
    return secrets.token_urlsafe(32)


class CountsProgress:
    """What a progress page needs from a background job counting `total` items.

    The model names the field that counts what is done (`progress_field`) and has
    a `status` whose `Status.DONE` means finished; the JSON keeps that field's name.
    """

    progress_field = "done"

    @property
    def percent(self) -> int:
        done = getattr(self, self.progress_field)
        return 100 if not self.total else min(100, round(100 * done / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status == self.Status.DONE

    def as_progress(self) -> dict:
        return {
            "status": self.status,
            "total": self.total,
            self.progress_field: getattr(self, self.progress_field),
            "percent": self.percent,
            "finished": self.is_finished,
        }


class InvitationBatch(CountsProgress, models.Model):
    """One upload of invitations by an organisation's manager, sent by a task.

    `sent` is recounted from the invitations after each mail, so the progress
    stays exact when a redelivered task goes over the batch again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Sending")
        DONE = "done", _("Sent")

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="invitation_batches",
    )
    invited_by = models.ForeignKey(
        User,
        verbose_name=_("invited by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    total = models.PositiveIntegerField(_("invitations"), default=0)
    sent = models.PositiveIntegerField(_("invitations sent"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("invitation batch")
        verbose_name_plural = _("invitation batches")

    progress_field = "sent"

    def __str__(self) -> str:
        return f"{self.organisation} · {self.sent}/{self.total}"


class InvitationQuerySet(models.QuerySet):
    def usable(self, now=None):
        """Invitations sent, not yet accepted nor withdrawn, and not older than their validity."""
        now = now or timezone.now()
        return self.filter(
            sent_at__isnull=False,
            accepted_at__isnull=True,
            withdrawn_at__isnull=True,
            sent_at__gt=now - Invitation.VALIDITY,
        )

    def pending(self, now=None):
        """Invitations whose link works or soon will: queued or sent within their
        validity, neither accepted nor withdrawn."""
        now = now or timezone.now()
        return self.filter(
            accepted_at__isnull=True, withdrawn_at__isnull=True, undelivered_at__isnull=True
        ).filter(models.Q(sent_at__isnull=True) | models.Q(sent_at__gt=now - Invitation.VALIDITY))

    def anonymise(self) -> int:
        """Forget who these invitations named; the rows stay (how many were invited).

        One row at a time: each gets an address and a link of its own (both unique).
        Those not accepted end too: a link nobody may use is no invitation waiting
        (the manager's count), and a queued one must not be mailed to the erased address.
        """
        count = 0
        pks = list(self.values_list("pk", flat=True))
        Invitation.objects.filter(
            pk__in=pks, accepted_at__isnull=True, withdrawn_at__isnull=True
        ).update(withdrawn_at=timezone.now())
        for pk in pks:
            # The mail server's refusal usually quotes the address it refused.
            count += Invitation.objects.filter(pk=pk).update(
                email=erased_address(),
                full_name="",
                job_title="",
                token=new_invitation_token(),
                undelivered_reason="",
            )
        return count

    def withdraw_for(self, organisation_id: int, addresses: list[str]) -> int:
        """End the links that would bring these addresses back in: sent or still queued."""
        return self.filter(
            organisation_id=organisation_id,
            email__in=[a.lower() for a in addresses],
            accepted_at__isnull=True,
            withdrawn_at__isnull=True,
        ).update(withdrawn_at=timezone.now())


class Invitation(models.Model):
    """An invitation to join an organisation; its link logs the person in once."""

    VALIDITY = datetime.timedelta(days=30)

    batch = models.ForeignKey(
        InvitationBatch,
        verbose_name=_("batch"),
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    email = models.EmailField(_("email address"))
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_invitation_token)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    # When the person left or was removed: an older link must not bring her back.
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    # When the mail server refused the address for good (no such mailbox): the batch
    # goes on with the others, and the manager reads which addresses to correct.
    undelivered_at = models.DateTimeField(_("refused by the mail server at"), null=True, blank=True)
    undelivered_reason = models.CharField(_("mail server's answer"), max_length=255, blank=True)
    accepted_by = models.ForeignKey(
        User,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["batch", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "email"], name="invitation_unique_in_batch")
        ]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"

    @property
    def expires_at(self) -> datetime.datetime | None:
        return self.sent_at + self.VALIDITY if self.sent_at else None


from learners.account_sessions import AccountSession  # noqa: E402, F401

# Assessment rows live in their own module; importing them here registers them.
from learners.assessment_models import (  # noqa: E402, F401
    Attempt,
    AttemptAnswer,
    GradingCorrection,
    Satisfaction,
    Submission,
)
from learners.mail_models import UndeliveredMail  # noqa: E402, F401
from learners.quality_models import (  # noqa: E402, F401
    AccommodationRequest,
    ColdSurvey,
    Feedback,
    ImprovementAction,
    TrackIndicators,
)
from learners.session_models import (  # noqa: E402, F401
    ActivityEvent,
    Attendance,
    HalfDay,
    Seat,
    TrainingSession,
)
