"""What the platform adds to allauth's account handling."""

from typing import NamedTuple
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings
from django.utils.translation import gettext as _

from learners.models import User


class PlatformSite(NamedTuple):
    """What allauth's mail templates read of `current_site`."""

    name: str
    domain: str


def platform_site() -> PlatformSite:
    return PlatformSite(settings.WAGTAIL_SITE_NAME, urlsplit(settings.SITE_URL).netloc)


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        # allauth's email field accepts 320 characters, the account's column 254:
        # PostgreSQL would refuse the longer address with a server error.
        limit = User._meta.get_field("email").max_length
        if len(email) > limit:
            raise forms.ValidationError(
                _("This address is too long (%(max)s characters at most).") % {"max": limit}
            )
        return super().clean_email(email)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Without the Sites framework allauth names the request's host as the
        # site (« Bonjour, c'est campus.example.org ! »): its mails speak as the
        # platform, and name its public address rather than whichever host
        # the request came through.
        super().send_mail(template_prefix, email, {**context, "current_site": platform_site()})
