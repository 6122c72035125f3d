"""A person's password, checked as the login form checks it.

Through the authentication backends, not `check_password`: django-axes counts a
wrong password against the address, so a browser left signed in cannot be used to
guess it, and a lockout pauses every form that asks for it (docs/decisions.md).
"""

from django.contrib.auth import authenticate
from django.http import HttpRequest

from learners.models import User


def is_her_password(request: HttpRequest | None, user: User, password: str) -> bool:
    checked = authenticate(request, email=user.email, password=password)
    return checked is not None and checked.pk == user.pk
