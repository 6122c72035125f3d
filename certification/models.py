"""Awards (what can be earned) and certificates (what was issued, frozen)."""

import base64
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import ModulePage
from learners.models import CountsProgress, LedgerEntry


def new_verification_code() -> str:
    """160 random bits as 32 base32 characters in groups of four, easy to type from paper."""
    raw = base64.b32encode(secrets.token_bytes(20)).decode("ascii")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


# Codes are base 32 (A–Z, 2–7): a 0, a 1 or an 8 typed from a print is the letter
# it looks like.
LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def normalise_code(code: str) -> str:
    """Accept a code typed in lower case, with spaces, without dashes, or with digits
    read for the letters they look like."""
    compact = "".join(ch for ch in code.upper() if ch.isalnum()).translate(LOOKALIKES)
    return "-".join(compact[i : i + 4] for i in range(0, len(compact), 4))


class AwardQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def of_kind(self, *kinds: str):
        return self.filter(kind__in=kinds)

    def for_track(self, track):
        """Awards a learner may earn by following `track`: its own, its modules',
        and its framework's blocks and certification."""
        fitting = Q(track=track) | Q(module__in=ModulePage.objects.child_of(track))
        if track.framework_id is not None:
            fitting |= Q(block__framework_id=track.framework_id) | Q(
                framework_id=track.framework_id
            )
        return self.filter(fitting)


class Award(models.Model):
    class Kind(models.TextChoices):
        MODULE = "module", _("Module achievement attestation")
        BLOCK = "block", _("Block attestation")
        # Issued when every block is validated; only the certifier awards the certification
        # itself, so the label says what the platform attests.
        CERTIFICATION = "certification", _("Attestation of the framework's competences")
        AWARENESS = "awareness", _("Awareness attestation")
        END_OF_TRAINING = "end_of_training", _("End-of-training attestation")
        COMPLETION = "completion", _("Certificate of completion")

    # Which target each kind needs: the database refuses anything else.
    TARGET_OF_KIND = {
        Kind.MODULE: "module",
        Kind.BLOCK: "block",
        Kind.CERTIFICATION: "framework",
        Kind.AWARENESS: "track",
        Kind.END_OF_TRAINING: "track",
        Kind.COMPLETION: "track",
    }

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=255)
    criteria = models.TextField(
        _("what earns it"), help_text=_("Shown on the certificate and the verification page.")
    )
    module = models.ForeignKey(
        "courses.ModulePage",
        verbose_name=_("module"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="awards",
    )
    block = models.ForeignKey(
        "courses.Block",
        verbose_name=_("block"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="awards",
    )
    framework = models.ForeignKey(
        "courses.Framework",
        verbose_name=_("skills framework"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="awards",
    )
    track = models.ForeignKey(
        "courses.TrackPage",
        verbose_name=_("track"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="awards",
    )
    validity_months = models.PositiveSmallIntegerField(
        _("validity (months)"),
        null=True,
        blank=True,
        # 0 read as « no limit » while saying « 0 months »: a month at least, or empty.
        validators=[MinValueValidator(1)],
        help_text=_("Empty: valid without limit."),
    )
    signatory_name = models.CharField(_("signatory"), max_length=150, blank=True)
    signatory_title = models.CharField(_("signatory's title"), max_length=150, blank=True)
    is_active = models.BooleanField(
        _("issued automatically"),
        default=True,
        help_text=_("Untick to stop issuing it; certificates already issued stay valid."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AwardQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "title"]
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        constraints = [
            models.CheckConstraint(
                name="award_target_matches_kind",
                condition=(
                    Q(
                        kind="module",
                        module__isnull=False,
                        block__isnull=True,
                        framework__isnull=True,
                        track__isnull=True,
                    )
                    | Q(
                        kind="block",
                        module__isnull=True,
                        block__isnull=False,
                        framework__isnull=True,
                        track__isnull=True,
                    )
                    | Q(
                        kind="certification",
                        module__isnull=True,
                        block__isnull=True,
                        framework__isnull=False,
                        track__isnull=True,
                    )
                    | Q(
                        kind__in=["awareness", "end_of_training", "completion"],
                        module__isnull=True,
                        block__isnull=True,
                        framework__isnull=True,
                        track__isnull=False,
                    )
                ),
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def target(self):
        """The module, block, framework or track this award is about."""
        return getattr(self, self.TARGET_OF_KIND[self.kind])

    def clean(self) -> None:
        # The check constraint would refuse it anyway; this says which field is wrong.
        wanted = self.TARGET_OF_KIND.get(self.kind)
        errors = {}
        for field in ("module", "block", "framework", "track"):
            filled = getattr(self, f"{field}_id") is not None
            if field == wanted and not filled:
                errors[field] = _("This kind of award needs it.")
            elif field != wanted and filled:
                errors[field] = _("Leave it empty for this kind of award.")
        if errors:
            raise ValidationError(errors)


# Bookkeeping of the render task, shown nowhere.
UNSHOWN_FIELDS = frozenset({"render_enqueued_at", "render_claimed_at"})
# What the public verification shows (certification/verification_cache.py).
PUBLIC_FIELDS = frozenset(
    {"award", "award_id", "context", "code", "issued_at", "expires_at", "status"}
    | {"revoked_at", "revocation_reason", "superseded_by", "superseded_by_id", "pdf_sha256"}
    | {"earlier_pdf_sha256", "holder_removed_at"}
)


class CertificateQuerySet(models.QuerySet):
    def valid(self):
        return self.filter(status=Certificate.Status.VALID)

    def awaiting_render(self):
        return self.filter(pdf="", holder_removed_at__isnull=True)

    def stale_renders(self, older_than):
        """Valid certificates still without a PDF since before `older_than`."""
        return (
            self.valid()
            .awaiting_render()
            .filter(
                Q(render_enqueued_at__lt=older_than)
                | Q(render_enqueued_at__isnull=True, issued_at__lt=older_than)
            )
        )

    def for_holder(self, user):
        return self.filter(learner=user)

    def issued_for_session(self, session):
        """Track documents frozen with `session`'s facts (dates, hours attended): not
        those of another session of the track, nor one issued as self-paced."""
        return self.filter(context__training__session__id=session.pk)

    def evidence_withdrawn_since_issued(self):
        """Valid certificates whose holder had evidence retracted after they froze it
        (their issue, or a re-issued certificate's first issue).

        A certificate is frozen: a corrected grading does not change it. These are
        the ones staff read again, to revoke those that no longer stand.
        """
        return self.valid().filter(
            Exists(
                LedgerEntry.objects.filter(
                    learner=OuterRef("learner"),
                    source=LedgerEntry.Source.RETRACTION,
                    recorded_at__gt=Coalesce(OuterRef("awarded_at"), OuterRef("issued_at")),
                )
            )
        )

    def update(self, **kwargs):
        # The services change certificates with update() (compare-and-swap), which
        # sends no signal: the verification cache must forget what it shows, and
        # the holders' dashboards (learners/page_versions.py) what they show.
        rows = []
        if set(kwargs) - UNSHOWN_FIELDS:
            rows = list(self.values_list("code", "learner_id"))
        updated = super().update(**kwargs)
        if rows:
            from certification import verification_cache
            from learners import page_versions

            if PUBLIC_FIELDS.intersection(kwargs):
                # Earlier copies name what replaced them, and its status.
                codes = [code for code, _learner in rows]
                verification_cache.forget(*codes, *verification_cache.predecessors_of(codes))
            page_versions.touch(learner for _code, learner in rows)
        return updated


class Certificate(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        REVOKED = "revoked", _("Revoked")
        SUPERSEDED = "superseded", _("Superseded")

    award = models.ForeignKey(
        Award, verbose_name=_("award"), on_delete=models.PROTECT, related_name="certificates"
    )
    # Kept when the holder erases their account: certificates outlive it for the
    # legal retention period, with the name frozen in `context`.
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("holder"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="certificates",
    )
    code = models.CharField(
        _("verification code"), max_length=40, unique=True, default=new_verification_code
    )
    # Everything the certificate states, frozen when issued: later edits of the
    # profile, the award or the framework never change an issued certificate.
    context = models.JSONField(_("frozen content"))
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    # A re-issue (a corrected name) states what was earned at the first issue, with the
    # levels and results of then: evidence retracted since then concerns it too.
    # Empty: earned when issued.
    awarded_at = models.DateTimeField(_("earned at"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.VALID
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revocation_reason = models.TextField(_("reason for revocation"), blank=True)
    superseded_by = models.OneToOneField(
        "self",
        verbose_name=_("superseded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supersedes",
    )
    pdf = models.FileField(_("PDF"), upload_to="certificates/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64, blank=True)
    # The PDFs rendered before a regeneration (a template fix) state the same frozen
    # content: copies of them already shared still check as authentic.
    earlier_pdf_sha256 = models.JSONField(
        _("SHA-256 of earlier renderings"), default=list, blank=True, editable=False
    )
    rendered_at = models.DateTimeField(_("PDF produced at"), null=True, blank=True)
    # Set when the certificate of an erased account stopped naming anyone, once the
    # legal retention was over (certification/retention.py): nothing renders it again.
    holder_removed_at = models.DateTimeField(
        _("holder's name removed at"), null=True, blank=True, editable=False
    )
    render_enqueued_at = models.DateTimeField(null=True, blank=True)
    # A lease, not a lock: a worker killed mid-render leaves it behind, and the
    # next attempt takes it over once it is older than the render lease.
    render_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Empty when issued automatically on a learner's progress.
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = CertificateQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "award"],
                condition=Q(status="valid"),
                name="one_valid_certificate_per_learner_and_award",
            )
        ]
        indexes = [models.Index(fields=["status", "rendered_at"], name="certificate_render_idx")]

    def __str__(self) -> str:
        return f"{self.context.get('award', {}).get('title', self.award_id)} — {self.holder_name}"

    @property
    def holder_name(self) -> str:
        return self.context.get("holder", {}).get("name", "")

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def filename(self) -> str:
        """What the holder's browser saves the PDF as."""
        return f"certificat-{self.code}.pdf"

    @property
    def storage_name(self) -> str:
        # Deterministic: a second render of the same certificate replaces the
        # same object instead of leaving a sibling behind.
        return f"certificates/{self.issued_at:%Y/%m}/{self.code}.pdf"

    @property
    def is_rendered(self) -> bool:
        return bool(self.pdf)

    @property
    def is_rendered_again(self) -> bool:
        """Its PDF is being produced again: the copy it replaces still stands meanwhile."""
        return not self.pdf and bool(self.earlier_pdf_sha256) and self.holder_removed_at is None

    @property
    def is_downloadable(self) -> bool:
        """A PDF to offer: the rendered one, or the copy a new render will replace."""
        return self.is_rendered or self.is_rendered_again

    def get_pdf_url(self) -> str:
        return reverse("certification:certificate_pdf", args=[self.pk])

    def last_replacement(self) -> "Certificate | None":
        """The certificate at the end of this one's replacements, whatever its status
        (None when nothing replaced it): the one a verifier is sent to."""
        seen = {self.pk}
        last = self.superseded_by if self.superseded_by_id else None
        while last is not None and last.superseded_by_id and last.superseded_by_id not in seen:
            seen.add(last.pk)
            last = last.superseded_by
        return last

    def current_successor(self) -> "Certificate | None":
        """The valid certificate at the end of this one's supersessions, if any: a
        successor may have been superseded or revoked in turn."""
        seen = {self.pk}
        successor = self.superseded_by
        while successor is not None and successor.pk not in seen:
            if successor.status == self.Status.VALID:
                return successor
            seen.add(successor.pk)
            successor = successor.superseded_by
        return None

    @property
    def public_status(self) -> str:
        """valid, expired, revoked or superseded: what a verifier is told."""
        if self.status == self.Status.VALID and self.is_expired:
            return "expired"
        return self.status

    def get_public_status_display(self) -> str:
        # Staff lists say « expired » as the verification page does, not « valid ».
        if self.public_status == "expired":
            return str(_("Expired"))
        return self.get_status_display()


class BulkIssue(CountsProgress, models.Model):
    """A staff request to issue (or re-render) an award for every eligible learner,
    or only for those holding a confirmed seat in one training session.

    Learners are split into chunks when the job is created; each chunk is one
    task. A chunk is counted once, when its `done_at` flips from empty, so the
    progress stays exact when a killed worker's task is delivered again.
    """

    class Mode(models.TextChoices):
        ISSUE = "issue", _("Issue to eligible learners")
        REGENERATE = "regenerate", _("Regenerate the PDFs")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    award = models.ForeignKey(
        Award, verbose_name=_("award"), on_delete=models.CASCADE, related_name="bulk_issues"
    )
    # Empty: every eligible learner; set: only the session's confirmed seat holders.
    session = models.ForeignKey(
        "learners.TrainingSession",
        verbose_name=_("session"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="bulk_issues",
    )
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices, default=Mode.ISSUE)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RUNNING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    total = models.PositiveIntegerField(_("learners to process"), default=0)
    done = models.PositiveIntegerField(_("learners processed"), default=0)
    # Items an unexpected error stopped (logged with their ids): the rest of their
    # chunk goes on, and the progress page says how many to look into.
    failed = models.PositiveIntegerField(_("items that failed"), default=0)
    # Learners left for now because evidence of theirs was still being recorded (a
    # quiz's outcome, an answer to grade): an award issued then would freeze « — ».
    deferred = models.PositiveIntegerField(_("learners left for later"), default=0)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("bulk issue")
        verbose_name_plural = _("bulk issues")

    def __str__(self) -> str:
        return f"{self.award} · {self.get_mode_display()} · {self.done}/{self.total}"

    def as_progress(self) -> dict:
        return {**super().as_progress(), "failed": self.failed}


class BulkIssueChunk(models.Model):
    job = models.ForeignKey(BulkIssue, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    # Learner ids when issuing, certificate ids when regenerating.
    item_ids = models.JSONField(default=list)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="bulk_issue_chunk_unique")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.index}"


class EvidencePackQuerySet(models.QuerySet):
    def unfinished(self):
        return self.filter(status__in=[EvidencePack.Status.PENDING, EvidencePack.Status.BUILDING])

    def stale(self, enqueued_before, claimed_before):
        """Packs no worker is building: never enqueued (broker down), or whose worker died."""
        pending = Q(status=EvidencePack.Status.PENDING) & (
            Q(enqueued_at__lt=enqueued_before)
            | Q(enqueued_at__isnull=True, created_at__lt=enqueued_before)
        )
        building = Q(status=EvidencePack.Status.BUILDING, claimed_at__lt=claimed_before)
        return self.filter(pending | building)


class EvidencePack(CountsProgress, models.Model):
    """The Qualiopi evidence of one training session, gathered in a ZIP by a task.

    `done` counts the files written so far out of `total`, for the progress bar.
    Each build writes a ZIP of its own and, once recorded, deletes the previous one.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        BUILDING = "building", _("Being built")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    session = models.ForeignKey(
        "learners.TrainingSession",
        verbose_name=_("session"),
        on_delete=models.CASCADE,
        related_name="evidence_packs",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    total = models.PositiveIntegerField(_("files to add"), default=0)
    done = models.PositiveIntegerField(_("files added"), default=0)
    file = models.FileField(_("ZIP file"), upload_to="evidence-packs/", blank=True)
    sha256 = models.CharField(_("SHA-256 of the ZIP"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A lease, not a lock: a worker killed mid-build leaves it behind, and the
    # periodic pass hands the pack to another worker once it is old.
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = EvidencePackQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("evidence pack")
        verbose_name_plural = _("evidence packs")

    def __str__(self) -> str:
        return f"{self.session} · {self.get_status_display()}"

    @property
    def is_finished(self) -> bool:
        # A failed build is finished too: the progress page stops polling and says why.
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.DONE and bool(self.file)

    @property
    def filename(self) -> str:
        """What the staff's browser saves the ZIP as."""
        return f"dossier-preuves-session-{self.session_id}-{self.created_at:%Y%m%d}.zip"
