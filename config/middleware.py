from csp.constants import SELF, UNSAFE_INLINE
from django.conf import settings
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
