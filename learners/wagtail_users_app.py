"""wagtail.users, serving its user admin through learners.wagtail_users (the forms
there import models: an app config module must not, it loads before them)."""

from wagtail.users.apps import WagtailUsersAppConfig


class TeamWagtailUsersConfig(WagtailUsersAppConfig):
    user_viewset = "learners.wagtail_users.TeamUserViewSet"
