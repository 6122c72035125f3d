"""allauth's pages that change how one signs in, behind « confirm it's you ».

Adding an address (then signing in or resetting the password through it) or
giving a passwordless account a password would let whoever finds a browser left
signed in take the account over, and the password so set would then pass the
other identity checks. allauth asks nothing before these pages, and its own
re-authentication knows password accounts only: they are served here first, with
the same check as the data export (learners/identity_checks.py). Changing a
password asks for the current one in its own form (learners/forms.py).
"""

from allauth.account import views as allauth_views
from django.contrib.auth.decorators import login_required
from django.urls import path

from learners.identity_checks import identity_confirmed


def _guarded(view):
    return login_required(identity_confirmed()(view))


urlpatterns = [
    path("email/", _guarded(allauth_views.email), name="account_email"),
    path("password/set/", _guarded(allauth_views.password_set), name="account_set_password"),
]
