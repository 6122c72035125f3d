"""Template helpers for certificates: the PDF's wording and the holder's list."""

import datetime
from decimal import Decimal, InvalidOperation

from django import template

from certification.models import Award, Certificate

register = template.Library()

# The PDF is a French legal document; these are its headings, not UI strings.
KIND_HEADINGS = {
    Award.Kind.MODULE: "Attestation de réussite de module",
    Award.Kind.BLOCK: "Attestation de validation de bloc de compétences",
    Award.Kind.CERTIFICATION: "Certification",
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
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError):
        return ""
    whole = number.to_integral_value()
    if number == whole:
        return f"{int(whole)} heure{'s' if whole > 1 else ''}"
    return f"{str(number.normalize()).replace('.', ',')} heures"


@register.inclusion_tag("certification/includes/my_certificates.html")
def my_certificates(user) -> dict:
    """The dashboard's « My certificates » list: valid ones, newest first."""
    certificates = (
        Certificate.objects.for_holder(user).valid().select_related("award").order_by("-issued_at")
        if user.is_authenticated
        else Certificate.objects.none()
    )
    return {"certificates": list(certificates)}
