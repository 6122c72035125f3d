from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Courses")

    def ready(self) -> None:
        # Connects the receivers that forget remembered sites when one changes and
        # move the catalogue's cache version on when pages or frameworks change.
        from courses import catalogue_cache, routing  # noqa: F401
