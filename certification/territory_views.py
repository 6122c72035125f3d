"""The operating team's territory dashboard and its CSV exports (team members who may see
certificates only, 404 otherwise)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from certification import territory
from certification.territory_charts import bar_chart, column_chart
from learners.spreadsheets import SpreadsheetWriter

# Figures on certificates, exact down to one person in a small département: for the
# team members who may see certificates, not for every account ticked « team ».
SEE_TERRITORY = "certification.view_certificate"


def may_see_territories(user) -> bool:
    return bool(
        user.is_authenticated and user.is_active and user.is_staff and user.has_perm(SEE_TERRITORY)
    )


def _staff_or_404(request: HttpRequest) -> None:
    if not may_see_territories(request.user):
        raise Http404


def _month_label(month: territory.Month) -> str:
    return formats.date_format(month.start, "M y")


@never_cache
def dashboard(request: HttpRequest) -> HttpResponse:
    _staff_or_404(request)
    report = territory.territory_report()
    regions = territory.all_regions(report)
    charts = {
        "regions_aware": bar_chart(
            [(area.name, area.figures.aware) for area in regions],
            title=_("Agents made aware, by région"),
            key="regions-aware",
        ),
        "regions_certified": bar_chart(
            [(area.name, area.figures.certified) for area in regions],
            title=_("Facilitators with every competence validated, by région"),
            key="regions-certified",
        ),
        "months_aware": column_chart(
            [(_month_label(m), m.aware) for m in report.months],
            title=_("Awareness attestations issued, by month"),
            key="months-aware",
        ),
        "months_blocks": column_chart(
            [(_month_label(m), m.blocks) for m in report.months],
            title=_("Block attestations issued, by month"),
            key="months-blocks",
        ),
        "months_certified": column_chart(
            [(_month_label(m), m.certified) for m in report.months],
            title=_("Framework attestations issued, by month"),
            key="months-certified",
        ),
        "months_organisations": column_chart(
            [(_month_label(m), m.organisations) for m in report.months],
            title=_("Organisations newly involved, by month"),
            key="months-organisations",
        ),
    }
    return render(
        request,
        "certification/territory/dashboard.html",
        {"report": report, "regions": regions, "charts": charts},
    )


def _csv_response(filename: str) -> tuple[HttpResponse, SpreadsheetWriter]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    # A byte order mark and semicolons: what French spreadsheets open correctly.
    # Headers and dates follow the reader's language, as on the dashboard they export.
    response.write("\ufeff")
    return response, SpreadsheetWriter(response, delimiter=";")


def _figure_columns() -> list[str]:
    # The dashboard's own column headings.
    return [
        _("Every competence validated"),
        _("Some blocks reached"),
        _("Block attestations"),
        _("Agents made aware"),
        _("Organisations involved"),
    ]


# A département's export leaves the team (funders, partners): one to four people or
# organisations in a small département can be named by whoever knows the place.
SMALL_COUNT = 5


def _masked(count: int) -> int | str:
    return f"< {SMALL_COUNT}" if 0 < count < SMALL_COUNT else count


def _figure_cells(figures: territory.Figures) -> list[int | str]:
    return [
        _masked(count)
        for count in (
            figures.certified,
            figures.partially_certified,
            figures.blocks,
            figures.aware,
            figures.organisations,
        )
    ]


@never_cache
def export_csv(request: HttpRequest) -> HttpResponse:
    """One line per département with figures, under its région; « Non renseigné » last."""
    _staff_or_404(request)
    report = territory.territory_report()
    response, writer = _csv_response("territoires")
    writer.writerow(
        [_("Région code"), _("Région"), _("Département code"), _("Département"), *_figure_columns()]
    )
    for region in report.regions:
        for departement in region.departements:
            writer.writerow(
                [
                    region.code,
                    region.name,
                    departement.code,
                    departement.name,
                    *_figure_cells(departement.figures),
                ]
            )
    return response


@never_cache
def export_months_csv(request: HttpRequest) -> HttpResponse:
    _staff_or_404(request)
    report = territory.territory_report()
    response, writer = _csv_response("territoires-par-mois")
    writer.writerow(
        [
            _("Month"),
            _("Framework attestations"),
            _("Block attestations"),
            _("Awareness attestations"),
            _("Organisations newly involved"),
        ]
    )
    for month in report.months:
        writer.writerow(
            [
                # The month's first day (01/11/2026 in French): a date spreadsheets sort.
                formats.date_format(month.start, "SHORT_DATE_FORMAT"),
                month.certified,
                month.blocks,
                month.aware,
                month.organisations,
            ]
        )
    return response
