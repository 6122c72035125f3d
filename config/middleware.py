import re

from csp.constants import SELF, UNSAFE_INLINE
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.urls import reverse
from django.utils import translation


class FrenchFirstLocaleMiddleware(LocaleMiddleware):
    """French unless the visitor chose otherwise with the language switch.

    Django's LocaleMiddleware follows the browser's Accept-Language, which would
    show English to French agents whose workstation is set up in English; the
    platform is French first, so only the explicit choice (a cookie) counts.
    """

    def process_request(self, request: HttpRequest) -> None:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


def admin_inline_scripts(get_response):
    """Wagtail's admin still writes inline scripts (date pickers, inline panels):
    there, and only there, scripts keep 'unsafe-inline' instead of the nonce."""
    admin_prefix = None

    def middleware(request: HttpRequest):
        nonlocal admin_prefix
        admin_prefix = admin_prefix or reverse("wagtailadmin_home")
        response = get_response(request)
        if request.path.startswith(admin_prefix):
            response._csp_replace = {"script-src": [SELF, UNSAFE_INLINE]}
        return response

    return middleware


class NullCharacter(SuspiciousOperation):
    """A NUL character (or a lone surrogate) in a URL or a form's text: no page or
    field takes one."""


# NUL, and halves of UTF-16 pairs, which only a request declaring another charset
# (UTF-7, say) can produce: PostgreSQL refuses both in text.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(text: str) -> bool:
    return UNSTORABLE.search(text) is not None


def _any_unstorable(data) -> bool:
    return any(
        _unstorable(name) or any(_unstorable(value) for value in values)
        for name, values in data.lists()
    )


class RefuseNullCharacters:
    """Refuse a request carrying a NUL character as malformed (400).

    PostgreSQL refuses NUL in text columns, so one in a code looked up from the
    URL, a query parameter or a comment would reach the database and fail there
    with a 500, wherever a view forgot to clean it. Files may hold any byte and
    are left to their own checks; so are views that parse their own body
    (exempt from CSRF, as the PDF check on the verification page is: it refuses
    an oversized upload before anything reads it). Values are checked decoded:
    a request may declare a charset in which NUL is not written %00.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if _unstorable(request.path_info):
            raise NullCharacter("NUL character in the URL")
        if request.META.get("QUERY_STRING") and _any_unstorable(request.GET):
            raise NullCharacter("NUL character in the query string")
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        if request.method != "POST" or getattr(view_func, "csrf_exempt", False):
            return None
        if _any_unstorable(request.POST):
            raise NullCharacter("NUL character in a form field")
        return None
