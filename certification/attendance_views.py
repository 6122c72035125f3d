"""The attendance sheet of a session, for its trainers and staff."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache

from certification.attendance_sheet import render_attendance_sheet
from learners.attendance import sessions_run_by


@never_cache
@login_required
def attendance_sheet_pdf(request: HttpRequest, session_id: int) -> HttpResponse:
    # Another trainer's session is a 404, as on the émargement page.
    session = get_object_or_404(sessions_run_by(request.user), pk=session_id)
    response = HttpResponse(render_attendance_sheet(session), content_type="application/pdf")
    filename = f"emargement-session-{session.pk}-{session.starts_on.isoformat()}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
