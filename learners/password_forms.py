"""allauth's change-password form, with the current password counted by axes.

Its own module: allauth imports learners.forms (the sign-up profile form) while
building its forms, so that module cannot subclass one of them.
"""

from allauth.account.adapter import get_adapter
from allauth.account.forms import ChangePasswordForm as AllauthChangePasswordForm
from allauth.core import context

from learners.password_checks import is_her_password


class ChangePasswordForm(AllauthChangePasswordForm):
    """The current password is checked through the backends: a wrong one counts for
    axes as at the login form (allauth's own check counted for nothing), so a
    browser left signed in cannot be used to guess it."""

    def clean_oldpassword(self) -> str:
        password = self.cleaned_data.get("oldpassword", "")
        if not is_her_password(context.request, self.user, password):
            raise get_adapter().validation_error("enter_current_password")
        return password
