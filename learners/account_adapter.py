"""What the platform adds to allauth's account handling."""

import logging
from smtplib import SMTPException
from typing import NamedTuple
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings
from django.contrib import messages
from django.utils.translation import gettext as _

from learners.models import User

logger = logging.getLogger(__name__)

MAIL_FAILED_SESSION_KEY = "account_mail_failed"

# What allauth says once it has mailed something: not true of a mail that failed.
SENT_MESSAGES = {
    "account/messages/email_confirmation_sent.txt",
    "account/messages/login_code_sent.txt",
}


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
        context = {**context, "current_site": platform_site()}
        try:
            super().send_mail(template_prefix, email, context)
        except (OSError, SMTPException):
            # These mails (a confirmation link, a sign-in code, a password reset)
            # are sent while the person waits for them: queued for hours they would
            # arrive long after she gave up, their code or link expired. So a mail
            # server that does not answer is said at once, and she can ask again;
            # what she did (her account, her request) is kept, not turned into a
            # server error.
            if self.request is None:
                raise
            # Not the address: logs outlive an erasure.
            logger.exception("Account mail %s could not be sent", template_prefix)
            self.request.account_mail_failed = True
            # The page after the redirect says so too, instead of « we sent you an
            # email » or « we've sent a code » (whose page keeps its form and its
            # « new code » button: the code is asked for again from there).
            self.request.session[MAIL_FAILED_SESSION_KEY] = True
            messages.error(
                self.request,
                _(
                    "The message to %(email)s could not be sent: the mail server is not "
                    "answering. Please ask again in a few minutes; if it keeps failing, "
                    "write to %(contact)s."
                )
                % {"email": email, "contact": settings.CAMPUS_CONTACT_EMAIL},
            )

    def add_message(self, request, level, message_template=None, *args, **kwargs) -> None:
        if message_template in SENT_MESSAGES and getattr(request, "account_mail_failed", False):
            return
        super().add_message(request, level, message_template, *args, **kwargs)
