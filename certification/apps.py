from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificationConfig(AppConfig):
    name = "certification"
    verbose_name = _("Certification")

    def ready(self) -> None:
        # Connect to learners' signals, and forget the verification of changed certificates.
        from certification import receivers, verification_cache  # noqa: F401
