from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearnersConfig(AppConfig):
    name = "learners"
    verbose_name = _("Learners")

    def ready(self) -> None:
        from learners import (
            activity_receivers,  # noqa: F401 - records logins
            receivers,  # noqa: F401 - connects the receivers
        )
