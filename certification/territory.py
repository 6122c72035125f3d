"""Figures by région and département for the operating team, from aggregate queries.

Definitions (shown on the page as well):
- a facilitator is « certified » when they hold a valid full certification;
  « partially certified » when they hold at least one valid block attestation
  and no full certification — the two columns never count the same person;
- « blocks validated » counts valid block attestations (one person may hold several);
- « agents made aware » counts holders of a valid awareness attestation;
- « organisations involved » counts organisations with at least one member who
  ever enrolled in a track or a module.
« Valid » means neither revoked, superseded nor expired. A person's place is
their organisation's (its région, else the département's); people without an
organisation, or whose organisation gives neither, count under « Non renseigné ».
Each query groups in the database: the number of queries does not grow with the data.
"""

import datetime
from dataclasses import dataclass, field, fields

from django.db.models import Count, Min, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.models import Award, Certificate
from learners import insee
from learners.models import Enrolment, Organisation

UNKNOWN = ""
MONTHS = 12


@dataclass
class Figures:
    certified: int = 0
    partially_certified: int = 0
    blocks: int = 0
    aware: int = 0
    organisations: int = 0

    def add(self, other: "Figures") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class Area:
    code: str
    name: str
    figures: Figures = field(default_factory=Figures)
    departements: list["Area"] = field(default_factory=list)


@dataclass
class Month:
    start: datetime.date
    certified: int = 0
    blocks: int = 0
    aware: int = 0
    organisations: int = 0


@dataclass
class TerritoryReport:
    regions: list[Area]
    total: Figures
    months: list[Month]


def _place(region: str | None, departement: str | None) -> tuple[str, str]:
    departement = departement or UNKNOWN
    region = region or UNKNOWN
    if not region and departement in insee.departements():
        region = insee.departements()[departement].region
    if region not in insee.regions():
        return UNKNOWN, UNKNOWN
    return region, departement


def _valid_certificates(now: datetime.datetime):
    return Certificate.objects.valid().filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now), learner__isnull=False
    )


REGION = "learner__organisation__region"
DEPARTEMENT = "learner__organisation__departement"


def _figures_by_place(now: datetime.datetime) -> dict[tuple[str, str], Figures]:
    by_place: dict[tuple[str, str], Figures] = {}

    def figures(region, departement) -> Figures:
        return by_place.setdefault(_place(region, departement), Figures())

    certificates = _valid_certificates(now)
    grouped = (
        certificates.filter(
            award__kind__in=[Award.Kind.CERTIFICATION, Award.Kind.BLOCK, Award.Kind.AWARENESS]
        )
        .values(REGION, DEPARTEMENT, "award__kind")
        .annotate(holders=Count("learner", distinct=True), count=Count("pk"))
        .order_by()
    )
    for row in grouped:
        target = figures(row[REGION], row[DEPARTEMENT])
        if row["award__kind"] == Award.Kind.CERTIFICATION:
            target.certified += row["holders"]
        elif row["award__kind"] == Award.Kind.BLOCK:
            target.blocks += row["count"]
        else:
            target.aware += row["holders"]
    certified = certificates.filter(award__kind=Award.Kind.CERTIFICATION).values("learner_id")
    partial = (
        certificates.filter(award__kind=Award.Kind.BLOCK)
        .exclude(learner_id__in=certified)
        .values(REGION, DEPARTEMENT)
        .annotate(holders=Count("learner", distinct=True))
        .order_by()
    )
    for row in partial:
        figures(row[REGION], row[DEPARTEMENT]).partially_certified += row["holders"]
    involved = (
        Organisation.objects.filter(members__enrolments__isnull=False)
        .values("region", "departement")
        .annotate(count=Count("pk", distinct=True))
        .order_by()
    )
    for row in involved:
        figures(row["region"], row["departement"]).organisations += row["count"]
    return by_place


def month_starts(today: datetime.date, count: int = MONTHS) -> list[datetime.date]:
    """The first day of the last `count` months, the current one last."""
    year, month = today.year, today.month
    starts = []
    for _step in range(count):
        starts.append(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _as_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _months(now: datetime.datetime) -> list[Month]:
    starts = month_starts(timezone.localdate(now))
    months = {start: Month(start) for start in starts}
    since = timezone.make_aware(datetime.datetime.combine(starts[0], datetime.time.min))
    issued = (
        _valid_certificates(now)
        .filter(
            issued_at__gte=since,
            award__kind__in=[Award.Kind.CERTIFICATION, Award.Kind.BLOCK, Award.Kind.AWARENESS],
        )
        .annotate(month=TruncMonth("issued_at"))
        .values("month", "award__kind")
        .annotate(count=Count("pk"))
        .order_by()
    )
    attribute = {
        Award.Kind.CERTIFICATION: "certified",
        Award.Kind.BLOCK: "blocks",
        Award.Kind.AWARENESS: "aware",
    }
    for row in issued:
        month = months.get(_as_date(row["month"]).replace(day=1))
        if month is not None:
            name = attribute[row["award__kind"]]
            setattr(month, name, getattr(month, name) + row["count"])
    # An organisation becomes involved in the month of its members' first enrolment.
    firsts = (
        Enrolment.objects.filter(learner__organisation__isnull=False)
        .values("learner__organisation")
        .annotate(first=Min("enrolled_at"))
        .order_by()
        .values_list("first", flat=True)
    )
    for first in firsts:
        month = months.get(_as_date(first).replace(day=1))
        if month is not None:
            month.organisations += 1
    return list(months.values())


def territory_report(now: datetime.datetime | None = None) -> TerritoryReport:
    now = now or timezone.now()
    by_place = _figures_by_place(now)
    regions: dict[str, Area] = {}
    for (region_code, departement_code), figures in by_place.items():
        region = regions.setdefault(
            region_code,
            Area(region_code, insee.region_name(region_code) or _("Not specified")),
        )
        region.figures.add(figures)
        region.departements.append(
            Area(
                departement_code,
                insee.departement_name(departement_code) or _("Not specified"),
                figures,
            )
        )
    order = list(insee.regions())
    ordered = sorted(
        regions.values(),
        key=lambda area: (area.code == UNKNOWN, order.index(area.code) if area.code else 0),
    )
    for area in ordered:
        area.departements.sort(key=lambda d: (d.code == UNKNOWN, d.code))
    total = Figures()
    for area in ordered:
        total.add(area.figures)
    return TerritoryReport(regions=ordered, total=total, months=_months(now))


def all_regions(report: TerritoryReport) -> list[Area]:
    """Every région, those without figures included (with zeros), then « Non renseigné »."""
    known = {area.code: area for area in report.regions}
    rows = [known.get(r.code) or Area(r.code, r.name) for r in insee.regions().values()]
    if UNKNOWN in known:
        rows.append(known[UNKNOWN])
    return rows
