"""Tags of the mail templates (templates/learners/email/)."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def subject_prefix() -> str:
    """« [Campus Tiers-Lieux] », as every mail subject of the platform begins, allauth's too.

    For subjects composed in a template; code that composes one in Python adds
    settings.ACCOUNT_EMAIL_SUBJECT_PREFIX itself.
    """
    return settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
