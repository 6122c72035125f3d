"""Template helpers for certificates: the PDF's wording and the holder's list."""

import datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.db.models import Q
from wagtail.models import Page

from certification.eligibility import TRACK_KINDS
from certification.models import Award, Certificate

register = template.Library()

# The PDF is a French legal document; these are its headings, not UI strings. Only the
# certifier awards a certification or validates its blocks: the platform attests the
# competences its learners reached on the way (docs/decisions.md).
KIND_HEADINGS = {
    Award.Kind.MODULE: "Attestation de réussite de module",
    Award.Kind.BLOCK: "Attestation de progression vers la certification",
    Award.Kind.CERTIFICATION: "Attestation de validation des compétences du référentiel",
    Award.Kind.AWARENESS: "Attestation de sensibilisation",
    Award.Kind.END_OF_TRAINING: "Attestation de fin de formation",
    Award.Kind.COMPLETION: "Certificat de réalisation",
}

TARGET_LABELS = {
    "module": "Module",
    "block": "Bloc de compétences",
    "framework": "Référentiel",
    "track": "Parcours",
}
FORMAT_LABELS = {
    "en_ligne": "À distance (formation en ligne)",
    "presentiel": "En présentiel",
    "hybride": "Mixte (à distance et en présentiel)",
}


@register.simple_tag
def target_label(kind: str) -> str:
    return TARGET_LABELS.get(kind, "")


@register.simple_tag
def format_label(code: str) -> str:
    return FORMAT_LABELS.get(code, code)


@register.simple_tag
def kind_heading(kind: str) -> str:
    return KIND_HEADINGS.get(kind, "")


@register.filter
def isodate(value: str | None) -> datetime.date | None:
    """A date frozen as ISO text in a certificate's context, back as a date."""
    if not value:
        return None
    return datetime.date.fromisoformat(str(value)[:10])


@register.filter
def hours(value) -> str:
    """« 0,5 heure », « 1,5 heure », « 2 heures »: French takes the plural from 2 on."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError):
        return ""
    whole = number.to_integral_value()
    figure = str(int(whole)) if number == whole else str(number.normalize()).replace(".", ",")
    return f"{figure} heure{fr_plural(number)}"


@register.filter
def fr_plural(value) -> str:
    """The plural « s » as French wants it: none for 0 and for anything below 2."""
    try:
        return "s" if Decimal(str(value)) >= 2 else ""
    except (InvalidOperation, TypeError):
        return ""


@register.filter
def minutes(value) -> str:
    """« 25 min », « 1 h 05 », « 2 h »: how a measured time reads on a certificate."""
    try:
        whole, rest = divmod(int(value), 60)
    except (TypeError, ValueError):
        return ""
    if not whole:
        return f"{rest} min"
    return f"{whole} h {rest:02d}" if rest else f"{whole} h"


@register.simple_tag
def frozen_framework(code: str) -> dict:
    """The framework a certificate froze, for the verification page to name the
    certification and its certifier (the page's record does not carry it)."""
    found = (
        Certificate.objects.filter(code=code).values_list("context__framework", flat=True).first()
    )
    return found if isinstance(found, dict) else {}


@register.inclusion_tag("certification/includes/my_certificates.html")
def my_certificates(user) -> dict:
    """The dashboard's « My certificates » list: valid ones, newest first."""
    certificates = (
        Certificate.objects.for_holder(user).valid().select_related("award").order_by("-issued_at")
        if user.is_authenticated
        else Certificate.objects.none()
    )
    return {
        "certificates": list(certificates),
        # Nothing is issued without a name to print (services.holder_name): she is told.
        "needs_name": user.is_authenticated and not (user.full_name or "").strip(),
    }


@register.simple_tag
def session_documents_to_come(seat) -> list[str]:
    """The titles of the session's track documents its seat holder does not hold yet:
    what the day after its attendance closes may bring (services.issue_after_attendance_closes)."""
    held = Certificate.objects.filter(learner_id=seat.learner_id).valid().values("award_id")
    return list(
        Award.objects.active()
        .of_kind(*TRACK_KINDS)
        .filter(track_id=seat.session.track_id)
        .exclude(pk__in=held)
        .order_by("kind", "pk")
        .values_list("title", flat=True)
    )


# What a quiz earns is issued within moments of it (minutes with a busy broker), or
# once a trainer grades its open answers: later certificates of the same awards (a name
# correction, say) are no news on that quiz's result page.
EARNED_WITHIN = datetime.timedelta(days=14)


@register.simple_tag
def certificates_earned_by(attempt) -> list[Certificate]:
    """The attempt's holder's valid certificates of its module's and track's awards,
    issued after it was submitted: what a quiz's result page announces (learners
    renders the page, certification knows the awards)."""
    if not attempt.passed or attempt.submitted_at is None or attempt.module_id is None:
        return []
    # The track is the module's parent page: matched by its tree path, in the same query.
    parent_path = attempt.module.path[: -Page.steplen]
    awards = Q(award__module_id=attempt.module_id) | Q(award__track__path=parent_path)
    # A name correction's successor is no new achievement.
    # (A revocation withdrawn points to its certificate issued again too: that one is
    # the award given back, still announced.)
    reissued = Certificate.objects.filter(
        status=Certificate.Status.SUPERSEDED, superseded_by__isnull=False
    ).values("superseded_by")
    return list(
        Certificate.objects.valid()
        .filter(awards, learner_id=attempt.learner_id)
        .filter(
            issued_at__gte=attempt.submitted_at,
            issued_at__lt=attempt.submitted_at + EARNED_WITHIN,
        )
        .exclude(pk__in=reissued)
        .select_related("award")
        .order_by("issued_at", "pk")
    )
