"""Deployment checks of the project's own settings (`manage.py check --deploy`)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def site_url_is_https(app_configs, **kwargs) -> list[Warning]:
    # The verification URL in every certificate's QR code, and the links of every
    # mail, start with it: once printed, a plain-http address cannot be taken back.
    if urlsplit(settings.SITE_URL).scheme == "https":
        return []
    return [
        Warning(
            f"SITE_URL ({settings.SITE_URL}) is not an https address.",
            hint="Set SITE_URL to the site's public https address, e.g. https://campus.example.org.",
            id="campus.W001",
        )
    ]
