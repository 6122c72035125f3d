from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearnersConfig(AppConfig):
    name = "learners"
    verbose_name = _("Learners")

    def ready(self) -> None:
        from config import checks  # noqa: F401 - the project's deployment checks
        from learners import (
            activity_receivers,  # noqa: F401 - records logins
            page_versions,  # noqa: F401 - moves cached pages on after writes, in every process
            receivers,  # noqa: F401 - connects the receivers
        )
