"""« Confirm it's you » before a person's whole data leaves, her account goes, or the
way she signs in changes.

A browser left signed in (a shared office computer, a tiers-lieu's kiosk) must
not let the next person download someone's data, erase her account, or take it
over by adding an address or setting a password (learners/guarded_account_urls.py).
These ask for a recent proof of identity: a sign-in within the last ten minutes, or a
confirmation on `learners:confirm_identity` — the password for accounts that
have one (through the authentication backends, so axes counts wrong ones), a
code mailed to her address for public agents, who sign in without a password.
allauth's own re-authentication covers password accounts only.

The state lives in the server-side session: a code is kept as its hash, tries
and sends are counted, and a confirmation lasts `RECENT`.
"""

import hashlib
import hmac
import time
from collections.abc import Callable
from functools import wraps

from allauth.account.adapter import get_adapter
from allauth.account.authentication import get_authentication_records
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

RECENT_SECONDS = 10 * 60
CODE_SECONDS = 10 * 60
CODE_TRIES = 5
# Codes mailed per session and quarter of an hour: enough for a lost mail or two.
CODE_SENDS = 3
SENDS_WINDOW_SECONDS = 15 * 60

CONFIRMED_KEY = "identity_confirmed_at"
CODE_KEY = "identity_code"


def confirmed_recently(request: HttpRequest) -> bool:
    moments = [record.get("at", 0) for record in get_authentication_records(request, request.user)]
    moments.append(request.session.get(CONFIRMED_KEY, 0))
    return time.time() - max(moments) < RECENT_SECONDS


def mark_confirmed(request: HttpRequest) -> None:
    request.session[CONFIRMED_KEY] = time.time()
    request.session.pop(CODE_KEY, None)


def identity_confirmed(*, back_to: str | None = None, unless_password: bool = False) -> Callable:
    """Send the person to confirm her identity first, unless she did so recently.

    `back_to`: the URL name to return to (a download returns to its page, not to
    the file); the request's own path by default. `unless_password`: the view
    asks for the password itself (the erasure form), so only accounts without one
    need the detour.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            skip = unless_password and request.user.has_usable_password()
            if not skip and not confirmed_recently(request):
                target = reverse(back_to) if back_to else request.get_full_path()
                url = reverse("learners:confirm_identity")
                return redirect(f"{url}?{urlencode({'next': target})}")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# --- Codes for accounts without a password ----------------------------------------


class CodeRefused(Exception):
    """A code that cannot be sent or accepted; its message is for the person."""


def _digest(code: str) -> str:
    # As allauth reads a sign-in code: « abcd efgh » and « ABCD-EFGH » are the same.
    letters = "".join(character for character in code.upper() if character.isalnum())
    return hashlib.sha256(letters.encode()).hexdigest()


def code_sent(request: HttpRequest) -> bool:
    """Whether a code was mailed in this session (still valid or not: its field shows why)."""
    return bool((request.session.get(CODE_KEY) or {}).get("digest"))


def send_code(request: HttpRequest) -> bool:
    """Mail a fresh code to the account's address; False if too many were sent lately.

    A mail server that fails is told to her by the account adapter, as for a
    sign-in code: the code is kept, she can ask again.
    """
    now = time.time()
    state = request.session.get(CODE_KEY) or {}
    sends = [moment for moment in state.get("sends", []) if now - moment < SENDS_WINDOW_SECONDS]
    if len(sends) >= CODE_SENDS:
        raise CodeRefused(
            _("Three codes were sent in the last quarter of an hour: use the last one, or wait.")
        )
    adapter = get_adapter(request)
    code = adapter.generate_login_code()
    request.session[CODE_KEY] = {
        "digest": _digest(code),
        "expires": now + CODE_SECONDS,
        "tries": 0,
        "sends": [*sends, now],
    }
    adapter.send_mail(
        "account/email/identity_code",
        request.user.email,
        {"code": code, "minutes": CODE_SECONDS // 60, "contact": settings.CAMPUS_CONTACT_EMAIL},
    )
    return not getattr(request, "account_mail_failed", False)


def check_code(request: HttpRequest, typed: str) -> None:
    """Raise `CodeRefused` unless `typed` is the code mailed, still valid."""
    state = request.session.get(CODE_KEY) or {}
    if not state.get("digest") or time.time() >= state.get("expires", 0):
        raise CodeRefused(_("This code has expired: ask for a new one."))
    if state.get("tries", 0) >= CODE_TRIES:
        raise CodeRefused(_("Too many wrong codes: ask for a new one."))
    if not hmac.compare_digest(_digest(typed), state["digest"]):
        state["tries"] = state.get("tries", 0) + 1
        request.session[CODE_KEY] = state
        raise CodeRefused(_("This code is not correct."))
