"""What the platform adds to allauth's account handling."""

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.utils.translation import gettext as _

from learners.models import User


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
