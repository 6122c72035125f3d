"""Qualiopi evidence packs of training sessions: staff request one, follow it, download it.

The request and the list of sessions live in the Wagtail admin; the progress
page and the download sit beside bulk issuance's. A pack holds every learner's
results, the session's attendance and online activity and the satisfaction answers:
anyone but staff granted each of the permissions that open those gets a 404.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from certification import evidence
from certification.admin_views import can_manage_certificates
from certification.models import EvidencePack
from learners.attendance import records_every_session
from learners.quality_views import can_see_results
from learners.session_models import TrainingSession

SESSIONS_SHOWN = 100


def can_build_packs(user) -> bool:
    """Managing certificates is not enough: the team keeps every session's attendance
    and the quality results behind permissions of their own, and a pack holds both."""
    return can_manage_certificates(user) and records_every_session(user) and can_see_results(user)


def _staff_pack(request: HttpRequest, pk: int) -> EvidencePack:
    if not can_build_packs(request.user):
        raise Http404
    return get_object_or_404(
        EvidencePack.objects.select_related("session__track", "requested_by"), pk=pk
    )


# --- Wagtail admin -------------------------------------------------------------------------


def sessions_view(request: HttpRequest) -> HttpResponse:
    if not can_build_packs(request.user):
        raise PermissionDenied
    latest = EvidencePack.objects.filter(session=OuterRef("pk")).order_by("-created_at", "-pk")
    sessions = (
        TrainingSession.objects.select_related("track")
        .annotate(pack_pk=Subquery(latest.values("pk")[:1]))
        .order_by("-starts_on", "-pk")[:SESSIONS_SHOWN]
    )
    sessions = list(sessions)
    packs = EvidencePack.objects.in_bulk([s.pack_pk for s in sessions if s.pack_pk])
    rows = [(session, packs.get(session.pack_pk)) for session in sessions]
    return TemplateResponse(
        request,
        "certification/evidence/admin_sessions.html",
        {"rows": rows, "shown": SESSIONS_SHOWN},
    )


@require_http_methods(["GET", "POST"])
def request_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not can_build_packs(request.user):
        raise PermissionDenied
    session = get_object_or_404(TrainingSession.objects.select_related("track"), pk=pk)
    if request.method == "POST":
        pack = evidence.request_pack(session, by=request.user)
        return redirect("certification:evidence_progress", pk=pack.pk)
    return TemplateResponse(
        request,
        "certification/evidence/admin_request.html",
        {
            "title": _("Build the evidence pack"),
            "session": session,
            "packs": session.evidence_packs.select_related("requested_by")[:10],
            "back_url": reverse("certification_evidence_packs"),
        },
    )


# --- Progress, download, rebuild -------------------------------------------------------------


@login_required
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    return render(
        request, "certification/evidence/progress.html", {"pack": _staff_pack(request, pk)}
    )


@never_cache
@login_required
def progress_json(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(_staff_pack(request, pk).as_progress())


@never_cache
@login_required
def download(request: HttpRequest, pk: int) -> FileResponse:
    pack = _staff_pack(request, pk)
    if not pack.is_ready:
        raise Http404
    return FileResponse(
        pack.file.open("rb"),
        as_attachment=True,
        filename=pack.filename,
        content_type="application/zip",
    )


@login_required
@require_POST
def rebuild(request: HttpRequest, pk: int) -> HttpResponse:
    pack = evidence.rebuild_pack(_staff_pack(request, pk))
    return redirect("certification:evidence_progress", pk=pack.pk)
