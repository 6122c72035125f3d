"""The organisation manager's view of their agents, and its CSV export."""

from django.contrib.auth.decorators import login_required
from django.db.models import Value
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from certification.organisation import agents_overview
from config.pagination import page_context
from learners import organisations
from learners.accents import Folded
from learners.models import Invitation, InvitationBatch
from learners.spreadsheets import SpreadsheetWriter


def _manager_or_404(request: HttpRequest) -> None:
    user = request.user
    if not (user.is_organisation_manager and user.organisation_id):
        raise Http404


# A région follows thousands of agents: a page of them at a time, found by name.
AGENTS_PER_PAGE = 50
NAME_SEARCH_MAX = 150


@never_cache
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _manager_or_404(request)
    name = request.GET.get("nom", "").strip()[:NAME_SEARCH_MAX]
    members = organisations.members_of(request.user)
    if name:
        members = members.alias(folded_name=Folded("full_name")).filter(
            folded_name__contains=Folded(Value(name))
        )
    ids = members.order_by("full_name", "email").values_list("pk", flat=True)
    listing = page_context(request, ids, AGENTS_PER_PAGE)
    return render(
        request,
        "certification/organisation/dashboard.html",
        {
            "organisation": request.user.organisation,
            "agents": agents_overview(request.user, only=list(listing["page_obj"].object_list)),
            **listing,
            "name": name,
            "batches": InvitationBatch.objects.filter(organisation_id=request.user.organisation_id)[
                :5
            ],
            "pending_invitations": Invitation.objects.pending()
            .filter(organisation_id=request.user.organisation_id)
            .count(),
        },
    )


@never_cache
@login_required
def export_csv(request: HttpRequest) -> HttpResponse:
    _manager_or_404(request)
    organisation = request.user.organisation
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"agents-{slugify(organisation.name)}-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A byte order mark and semicolons: what French spreadsheets open correctly.
    # Headers and dates follow the manager's language, as on the page they export.
    response.write("\ufeff")
    writer = SpreadsheetWriter(response, delimiter=";")
    writer.writerow([_("Name"), _("Awareness progress (%)"), _("Attestations"), _("Issued on")])
    for agent in agents_overview(request.user):
        writer.writerow(
            [
                agent.name,
                agent.progress,
                " | ".join(c.award.title for c in agent.attestations),
                " | ".join(_local_date(c.issued_at) for c in agent.attestations),
            ]
        )
    return response


def _local_date(moment) -> str:
    # SHORT_DATE_FORMAT: 23/11/2026 in French, a date spreadsheets read as one.
    return formats.date_format(timezone.localdate(moment), "SHORT_DATE_FORMAT")
