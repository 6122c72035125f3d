"""Certificates built directly, for the verification and Open Badges tests.

The frozen context mirrors what `certification.services.issue()` writes; the
tests build it by hand so that they only depend on the model's contract.
"""

import hashlib
from datetime import timedelta
from io import BytesIO

from django.utils import timezone
from pypdf import PdfWriter

from certification.models import Award, Certificate
from courses.models import Competence, Framework
from tests.courses.factories import make_framework


def pdf_bytes(text: str = "Campus Tiers-Lieux") -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": text})
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def make_award(framework: Framework | None = None, **fields) -> Award:
    framework = framework or Framework.objects.filter(code="RS5142").first() or make_framework()
    defaults = {
        "kind": Award.Kind.CERTIFICATION,
        "title": "Facilitateur·rice de tiers-lieux",
        "criteria": "Atteindre le niveau cible dans chaque compétence du référentiel RS5142.",
        "framework": framework,
        "signatory_name": "Alex Dupont",
        "signatory_title": "Directeur",
    }
    return Award.objects.create(**{**defaults, **fields})


def frozen_context(learner, award: Award, competences: int | None = None) -> dict:
    framework = award.framework
    chosen = Competence.objects.filter(block__framework=framework).order_by("code")
    if competences is not None:
        chosen = chosen[:competences]
    return {
        "holder": {"name": learner.full_name},
        "award": {"title": award.title, "kind": award.kind, "criteria": award.criteria},
        "framework": {
            "code": framework.code,
            "version": framework.version,
            "title": framework.title,
        },
        "competences": [
            {"code": competence.code, "title": competence.title, "level": "Appliquer"}
            for competence in chosen
        ],
        "provider": {"name": "Campus Tiers-Lieux"},
        "signatory": {"name": award.signatory_name, "title": award.signatory_title},
    }


def make_certificate(learner, award: Award | None = None, *, pdf: bytes | None = None, **fields):
    award = award or make_award()
    issued_at = fields.pop("issued_at", timezone.now() - timedelta(days=30))
    certificate = Certificate.objects.create(
        learner=learner,
        award=award,
        issued_at=issued_at,
        context=fields.pop("context", None) or frozen_context(learner, award),
        pdf_sha256=hashlib.sha256(pdf).hexdigest() if pdf else "",
        **fields,
    )
    return certificate


def revoke(certificate: Certificate, reason: str = "Fraude à l'évaluation constatée.") -> None:
    certificate.status = Certificate.Status.REVOKED
    certificate.revoked_at = timezone.now() - timedelta(days=1)
    certificate.revocation_reason = reason
    certificate.save()


def supersede(certificate: Certificate) -> Certificate:
    """Replace `certificate` by a new one (say, a corrected name) and return the successor."""
    certificate.status = Certificate.Status.SUPERSEDED
    certificate.save()
    successor = make_certificate(certificate.learner, certificate.award, issued_at=timezone.now())
    certificate.superseded_by = successor
    certificate.save()
    return successor
