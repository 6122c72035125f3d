"""What a track page shows of its quality record: public figures and disability referent.

courses must not import learners, so the track page loads this library:
`{% load quality_tags %}` then `{% track_indicators page %}` and
`{% disability_block page %}`.
"""

from django import template
from django.conf import settings

from courses.models import TrackPage
from learners import accommodations
from learners.models import TrackIndicators

register = template.Library()


def _published(rate, answers: int, minimum: int):
    # Below the minimum the page gives the count alone: a rate would mislead.
    return rate if rate is not None and answers >= minimum else None


@register.inclusion_tag("learners/includes/track_indicators.html")
def track_indicators(page: TrackPage) -> dict:
    indicators = TrackIndicators.objects.filter(track_id=page.pk).first()
    minimum = settings.PUBLIC_INDICATORS_MIN_ANSWERS
    data = {"page": page, "indicators": indicators, "minimum": minimum}
    if indicators is not None:
        data.update(
            satisfaction=_published(
                indicators.satisfaction_rate, indicators.satisfaction_answers, minimum
            ),
            success=_published(indicators.success_rate, indicators.success_base, minimum),
        )
    return data


@register.inclusion_tag("learners/includes/disability_block.html", takes_context=True)
def disability_block(context, page: TrackPage) -> dict:
    return {
        "page": page,
        "referent": accommodations.referent(page),
        "user": context.get("user"),
    }


@register.simple_tag
def accommodation_need_limit() -> int:
    return accommodations.MAX_NEED_LENGTH
