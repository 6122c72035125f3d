"""A session's attendance sheet as a tagged PDF, rendered like the certificates.

Same template engine, fonts under static/ and local-only fetcher as the
certificate: a name typed into a profile can never make the renderer reach
the network. The sheet is rendered on request: it is a few pages, and it must
show the signatures of the last minute.
"""

import datetime

import weasyprint
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from certification.rendering import LocalOnlyURLFetcher, static_root
from learners.attendance import attendance_sheet
from learners.session_models import TrainingSession

TEMPLATE = "certification/attendance_sheet.html"


def attendance_sheet_html(session: TrainingSession, at: datetime.datetime | None = None) -> str:
    at = at or timezone.now()
    # An attendance sheet is a French administrative document (Qualiopi, funders)
    # whatever the language of the trainer who downloads it.
    with translation.override("fr"):
        sheet = attendance_sheet(session, at)
        return render_to_string(
            TEMPLATE,
            {
                "sheet": sheet,
                "session": session,
                "trainers": session.trainers.order_by("full_name", "email"),
                "provider": settings.CAMPUS_PROVIDER_NAME,
                # Funders' sheets name the provider by its declaration number and SIRET.
                "provider_nda": settings.CAMPUS_PROVIDER_NDA,
                "provider_siret": settings.CAMPUS_PROVIDER_SIRET,
                "generated_at": at,
            },
        )


def render_attendance_sheet(session: TrainingSession, at: datetime.datetime | None = None) -> bytes:
    """The sheet as a tagged PDF (PDF/UA-1), A4 portrait."""
    document = weasyprint.HTML(
        string=attendance_sheet_html(session, at),
        base_url=str(static_root()) + "/",
        url_fetcher=LocalOnlyURLFetcher(),
    )
    return document.write_pdf(pdf_variant="pdf/ua-1")
