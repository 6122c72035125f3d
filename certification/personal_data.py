"""Certification's part of a person's data export (learners/exports.py).

learners builds the archive but may not import certification: it asks through
`personal_data_requested`, and this receiver answers with the certificates the
person holds.
"""

from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from certification import openbadges
from certification.models import Certificate
from learners.exports import Section, personal_data_requested

COLUMNS = [
    "code",
    "award",
    "holder_name",
    "holder_organisation",
    "issued_at",
    "expires_at",
    "status",
    "revoked_at",
    "revocation_reason",
    "verification_url",
]


def certificates(user) -> list[dict]:
    return [
        {
            "code": c.code,
            # As issued: the award may have been renamed since.
            "award": c.context.get("award", {}).get("title") or c.award.title,
            "holder_name": c.holder_name,
            # The employer a certificat de réalisation names, as frozen at its issue.
            "holder_organisation": (c.context.get("holder") or {}).get("organisation", ""),
            "issued_at": c.issued_at,
            "expires_at": c.expires_at,
            # What a verifier is told, « expired » included.
            "status": c.public_status,
            "revoked_at": c.revoked_at,
            "revocation_reason": c.revocation_reason,
            "verification_url": openbadges.verification_url(c),
        }
        for c in Certificate.objects.for_holder(user).select_related("award").order_by("issued_at")
    ]


@receiver(personal_data_requested, dispatch_uid="certification.personal_data")
def certificates_section(sender, user, **kwargs) -> dict[str, Section]:
    return {
        "certificates": Section(
            description=_(
                "certificates issued to you: code, award, dates, status, where to verify"
            ),
            columns=COLUMNS,
            rows=certificates(user),
        )
    }
