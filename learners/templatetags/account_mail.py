"""What the pages after an account mail say: whether that mail actually went."""

from django import template

from learners.account_adapter import MAIL_FAILED_SESSION_KEY

register = template.Library()


@register.simple_tag(takes_context=True)
def account_mail_failed(context) -> bool:
    """True once, on the page after a confirmation or reset mail that could not be sent."""
    request = context.get("request")
    session = getattr(request, "session", None)
    return bool(session.pop(MAIL_FAILED_SESSION_KEY, False)) if session is not None else False
