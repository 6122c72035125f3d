from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


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


class Organisation(models.Model):
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
        validators=[RegexValidator(r"^\d{9}$", _("A SIREN number has exactly 9 digits."))],
    )
    departement = models.CharField(_("département (INSEE code)"), max_length=3, blank=True)
    region = models.CharField(_("région (INSEE code)"), max_length=2, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


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
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        # Wagtail's user admin edits first and last names; the certificate name
        # follows them until the person sets it themselves.
        if not self.full_name:
            self.full_name = f"{self.first_name} {self.last_name}".strip()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.first_name or self.display_name
