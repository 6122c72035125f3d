from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Courses")

    def ready(self) -> None:
        # Every app's URLs (Wagtail's admin hooks included) read ids with it: registered
        # before any URL module is imported.
        from django.urls import register_converter

        from config.converters import PrimaryKey

        register_converter(PrimaryKey, "pk")
        # Connects the receivers that forget remembered sites when one changes and
        # move the catalogue's cache version on when pages or frameworks change.
        from courses import catalogue_cache, routing  # noqa: F401
