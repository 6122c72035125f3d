from django.conf import settings
from django.http import HttpRequest


def campus(request: HttpRequest) -> dict:
    return {
        "campus": {
            "provider": settings.CAMPUS_PROVIDER_NAME,
            "contact_email": settings.CAMPUS_CONTACT_EMAIL,
            "accessibility_email": settings.CAMPUS_ACCESSIBILITY_EMAIL,
            "privacy_email": settings.CAMPUS_PRIVACY_EMAIL,
            "processors": settings.CAMPUS_PROCESSORS,
            # What the pages of the CMS are written in (Wagtail's default locale), whatever
            # language the interface is shown in: their containers carry it as lang.
            "content_language": settings.LANGUAGE_CODE,
        }
    }
