"""allauth's sign-up form, saying plainly when an address is already registered.

The other account forms (password reset, sign-in by code) answer alike for
known and unknown addresses (ACCOUNT_PREVENT_ENUMERATION), and mail the person
what happened. Sign-up alone tells at once (docs/decisions.md): someone who
already has an account would otherwise wait for a confirmation that never comes.
Kept apart from learners.forms, which allauth's forms module imports.
"""

from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm as AllauthSignupForm


class SignupForm(AllauthSignupForm):
    def validate_unique_email(self, value) -> str:
        email = super().validate_unique_email(value)
        if self.account_already_exists:
            raise get_adapter().validation_error("email_taken")
        return email
