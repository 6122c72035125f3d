from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Courses")

    def ready(self) -> None:
        # Connects the receiver that forgets remembered sites when one changes.
        from courses import routing  # noqa: F401
