"""Who django-axes counts failed logins against."""

from django.http import HttpRequest


def axes_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The address typed at login, lower-cased.

    allauth authenticates with `email=…` while its form field is `login`, and
    axes' own user_logged_in handler passes the form field's name: without this,
    every failure was counted against the IP address alone, so one person's typos
    (or a shared proxy address) locked everyone out. Lower-casing stops
    « Camille@… » from earning a fresh set of attempts.
    """
    for key in ("email", "login", "username"):
        if credentials and credentials.get(key):
            return str(credentials[key]).strip().lower()
    value = getattr(request, "POST", {}).get("login") if request is not None else None
    return value.strip().lower() if value else None
