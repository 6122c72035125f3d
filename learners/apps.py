from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearnersConfig(AppConfig):
    name = "learners"
    verbose_name = _("Learners")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from learners.accents import register_sqlite_function

        connection_created.connect(register_sqlite_function, dispatch_uid="campus_fold")
        # config is no app: its deployment checks register when an app is ready.
        from config import checks  # noqa: F401
        from learners import (
            activity_receivers,  # noqa: F401 - records logins, after organisation_receivers
            page_versions,  # noqa: F401 - moves cached pages on after writes, in every process
            receivers,  # noqa: F401 - connects the receivers
        )
