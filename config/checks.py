"""Deployment checks of the project's own settings (`manage.py check --deploy`)."""

from pathlib import Path
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


@register(Tags.security, deploy=True)
def open_badges_key_exists(app_configs, **kwargs) -> list[Warning]:
    # Without it every Open Badges download answers « temporarily unavailable »;
    # production never creates one on its own (docs/openbadges.md).
    if Path(settings.OPENBADGES_KEY_PATH).is_file():
        return []
    return [
        Warning(
            f"No Open Badges issuer key at {settings.OPENBADGES_KEY_PATH}.",
            hint="Run `manage.py generate_issuer_key` (or set OPENBADGES_KEY_PATH to the key).",
            id="campus.W002",
        )
    ]
