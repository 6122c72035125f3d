from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificationConfig(AppConfig):
    name = "certification"
    verbose_name = _("Certification")

    def ready(self) -> None:
        # Connect to learners' signals (events, and the personal data export), and
        # forget the verification of changed certificates.
        from certification import personal_data, receivers, verification_cache  # noqa: F401
