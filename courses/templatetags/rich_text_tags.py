from django import template

from courses.rich_text import sanitise

register = template.Library()


@register.filter
def sanitised(html: str):
    return sanitise(html)
