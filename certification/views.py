"""Downloads of certificates and the progress of bulk issuance."""

import io

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from certification import services
from certification.admin_views import can_manage_certificates
from certification.models import BulkIssue, Certificate, CertificateQuerySet


def certificates_for(user, certificates: CertificateQuerySet) -> CertificateQuerySet:
    """The holder's own; all of them for those who manage certificates in the admin.

    Being staff is not enough (docs/decisions.md): the admin's permission is. Someone
    else's certificate is then a 404, not a 403: its existence is nobody's business.
    """
    return certificates if can_manage_certificates(user) else certificates.for_holder(user)


@login_required
def certificate_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = get_object_or_404(certificates_for(request.user, Certificate.objects), pk=pk)
    if not certificate.is_downloadable:
        raise Http404
    if certificate.status != Certificate.Status.VALID and not can_manage_certificates(request.user):
        # A fresh copy of a withdrawn certificate would circulate as if it stood; staff
        # keep theirs for the records. An expired one is still the holder's history.
        return render(
            request,
            "certification/certificate_withdrawn.html",
            {"certificate": certificate, "successor": certificate.current_successor()},
            status=410,
        )
    if certificate.is_rendered:
        content = certificate.pdf.open("rb")
    elif (earlier := services.earlier_copy(certificate)) is not None:
        content = io.BytesIO(earlier)
    else:
        raise Http404
    response = FileResponse(
        content,
        as_attachment=True,
        filename=certificate.filename,
        content_type="application/pdf",
    )
    # A holder's document: no shared cache, nor the browser's, keeps it.
    response["Cache-Control"] = "private, no-store"
    return response


def _staff_job(request: HttpRequest, pk: int) -> BulkIssue:
    # Those who may start a job follow it; a session's job names its learners' session.
    if not can_manage_certificates(request.user):
        raise Http404
    return get_object_or_404(
        BulkIssue.objects.select_related("award", "requested_by", "session__track"), pk=pk
    )


@login_required
def bulk_progress(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "certification/bulk_progress.html", {"job": _staff_job(request, pk)})


@never_cache
@login_required
def bulk_progress_json(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(_staff_job(request, pk).as_progress())
