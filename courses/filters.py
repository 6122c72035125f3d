"""The catalogue's facets, search and sort, shared by the HTML catalogue and the JSON API.

Facet values in URLs are codes (competence "B1.2", level "appliquer", track slug),
not primary keys, so that a shared link reads well and survives a database
rebuild. A code used by two framework versions matches both: a learner looking
for "B1.2" wants the modules of either version.
"""

import re
from collections import Counter
from dataclasses import dataclass, field

import django_filters
from django import forms
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Length, Substr
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page

from courses import catalogue_cache
from courses.models import (
    Audience,
    Competence,
    Format,
    Level,
    ModuleCompetence,
    ModulePage,
    TrackPage,
)

MAX_MINUTES = 100_000  # beyond any real module; also keeps SQLite integers in range
MAX_QUERY_LENGTH = 200

SORT_CHOICES = [
    ("relevance", _("Relevance (when searching)")),
    ("title", _("Title")),
    ("duration", _("Duration, shortest first")),
    ("newest", _("Newest first")),
]
SORT_ORDERING = {
    "title": ("title", "pk"),
    "duration": ("duration_minutes", "title", "pk"),
    # NULLs (never published through a revision) sort last on every database.
    "newest": (F("first_published_at").desc(nulls_last=True), "-pk"),
}

# The facets whose values are offered as checkboxes, in the order the form shows them.
CHOICE_FACETS = ("block", "competence", "level", "audience", "format", "track")


class MinutesFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


@dataclass
class Ignored:
    """A query parameter value the filters could not use."""

    name: str
    label: str
    value: str


@dataclass(frozen=True)
class TrackChoice:
    """What the filters need of a track (small enough for the cache)."""

    title: str
    slug: str
    path: str
    audience: str


@dataclass
class FacetOption:
    value: str
    label: str
    count: int
    checked: bool


@dataclass
class Facet:
    name: str
    legend: str
    options: list[FacetOption]


@dataclass
class FacetCounts:
    """How many modules of the current result carry each facet value."""

    total: int = 0
    by_facet: dict[str, Counter] = field(default_factory=dict)

    def get(self, facet: str, value: str) -> int:
        return self.by_facet.get(facet, Counter())[value]


class ModuleFilter(django_filters.FilterSet):
    """Facets over a base queryset of modules; unknown values are dropped, never fatal.

    `ignored` lists what was dropped so that the page (or the API) can say so.
    """

    q = django_filters.CharFilter(
        label=_("Search"), method="filter_search", max_length=MAX_QUERY_LENGTH
    )
    block = django_filters.MultipleChoiceFilter(label=_("Block"), method="filter_block")
    competence = django_filters.MultipleChoiceFilter(
        label=_("Competence"), method="filter_competence"
    )
    level = django_filters.MultipleChoiceFilter(
        label=_("Level"), field_name="level__code", distinct=False
    )
    audience = django_filters.MultipleChoiceFilter(
        label=_("Audience"), choices=Audience.choices, method="filter_audience"
    )
    format = django_filters.MultipleChoiceFilter(
        label=_("Format"), choices=Format.choices, distinct=False
    )
    track = django_filters.MultipleChoiceFilter(label=_("Track"), method="filter_track")
    duration_min = MinutesFilter(
        label=_("At least (minutes)"),
        field_name="duration_minutes",
        lookup_expr="gte",
        min_value=0,
        max_value=MAX_MINUTES,
    )
    duration_max = MinutesFilter(
        label=_("At most (minutes)"),
        field_name="duration_minutes",
        lookup_expr="lte",
        min_value=0,
        max_value=MAX_MINUTES,
    )
    # Applied last, in filter_queryset: relevance needs the search's ranking.
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"), choices=SORT_CHOICES, method="keep", empty_label=None
    )

    class Meta:
        model = ModulePage
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, cache_scope=None):
        """`cache_scope` names the base queryset (the catalogue page's key): with it, the
        choices and the facet counts are kept in the shared cache (courses.catalogue_cache)."""
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.cache_scope = cache_scope
        self.catalogue_version = (
            catalogue_cache.version(request) if cache_scope is not None else None
        )
        self._load_choices()
        self.ignored: list[Ignored] = []
        self._ranking: list[int] | None = None
        if self.is_bound:
            self.data = self._drop_unknown_values(self.data)

    # --- Choices: the values the base catalogue actually uses (three queries) ---

    def _load_choices(self) -> None:
        cache_key = catalogue_cache.key("choices", self.catalogue_version, self.cache_scope)
        loaded = catalogue_cache.get(cache_key)
        if catalogue_cache.missing(loaded):
            loaded = self._query_choices()
            catalogue_cache.remember(cache_key, loaded)
        self.tracks, blocks, competences, levels = loaded
        self.choices: dict[str, dict[str, str]] = {
            "block": blocks,
            "competence": competences,
            "level": levels,
            "audience": dict(Audience.choices),
            "format": dict(Format.choices),
            "track": {track.slug: track.title for track in self.tracks},
        }
        for name in CHOICE_FACETS:
            self.filters[name].extra["choices"] = list(self.choices[name].items())

    def _query_choices(self) -> tuple:
        """Tracks, blocks, competences and levels the base catalogue uses (three queries)."""
        parent_paths = self.queryset.annotate(parent_path=_parent_path()).values("parent_path")
        tracks = [
            TrackChoice(track.title, track.slug, track.path, track.audience)
            for track in TrackPage.objects.filter(path__in=parent_paths)
            .order_by("path")
            .only("title", "slug", "path", "audience")
        ]
        competences = (
            Competence.objects.filter(
                pk__in=ModuleCompetence.objects.filter(module__in=self.queryset).values(
                    "competence_id"
                )
            )
            .select_related("block")
            .order_by("block__framework__code", "block__order", "order", "code")
        )
        levels = Level.objects.filter(pk__in=self.queryset.values("level_id")).order_by(
            "rank", "code"
        )
        blocks: dict[str, str] = {}
        competence_choices: dict[str, str] = {}
        for competence in competences:
            block = competence.block
            blocks.setdefault(block.code, f"{block.code} — {block.title}")
            competence_choices.setdefault(
                competence.code, f"{competence.code} — {competence.title}"
            )
        return tracks, blocks, competence_choices, {level.code: level.label for level in levels}

    def _drop_unknown_values(self, data: QueryDict) -> QueryDict:
        """Keep the known values of each facet; remember the others for the notice."""
        data = data.copy()
        for name in CHOICE_FACETS:
            # An empty value (`?level=`) means "no filter", not an unknown one.
            values = [value for value in data.getlist(name) if value]
            known = [value for value in values if value in self.choices[name]]
            self.ignored += [
                Ignored(name, str(self.filters[name].label), value)
                for value in values
                if value not in known
            ]
            data.setlist(name, known)
        return data

    # --- Filtering ---

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        for name in self.form.errors:
            label = str(self.filters[name].label)
            self.ignored.append(Ignored(name, label, self.data.get(name, "")))
        return self._order(queryset)

    @property
    def applied_sort(self) -> str:
        """The order actually applied: relevance when searching, unless another is asked for."""
        asked = self.form.cleaned_data.get("sort", "") if self.is_bound else ""
        if self._ranking is not None and asked in ("", "relevance"):
            return "relevance"
        return asked if asked in SORT_ORDERING else "title"

    def _order(self, queryset: QuerySet) -> QuerySet:
        if self.applied_sort == "relevance":
            rank = Case(
                *[When(pk=pk, then=Value(position)) for position, pk in enumerate(self._ranking)],
                output_field=IntegerField(),
            )
            return queryset.order_by(rank, "title", "pk")
        return queryset.order_by(*SORT_ORDERING[self.applied_sort])

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Words only: the search backends read quotes, stars, carets and brackets
        # as query syntax, and SQLite's full-text search fails on an unbalanced
        # quote. Visitors type words; punctuation alone finds nothing.
        words = re.findall(r"\w+(?:\.\w+)*", value)
        if not words:
            self._ranking = []
            return queryset.none()
        value = " ".join(words)
        # Wagtail search only filters on indexed FilterFields; competences and
        # tracks are not, so search first and intersect by primary key.
        results = ModulePage.objects.live().search(value, operator="and")
        self._ranking = [module.pk for module in results]
        return queryset.filter(pk__in=self._ranking)

    def filter_block(self, queryset, name, value):
        targets = ModuleCompetence.objects.filter(competence__block__code__in=value)
        return queryset.filter(pk__in=targets.values("module_id"))

    def filter_competence(self, queryset, name, value):
        targets = ModuleCompetence.objects.filter(competence__code__in=value)
        return queryset.filter(pk__in=targets.values("module_id"))

    def filter_audience(self, queryset, name, value):
        return queryset.filter(
            _under_any([track for track in self.tracks if track.audience in value])
        )

    def filter_track(self, queryset, name, value):
        return queryset.filter(_under_any([track for track in self.tracks if track.slug in value]))

    def keep(self, queryset, name, value):
        return queryset

    # --- What the page shows around the results ---

    def facet_counts(self) -> FacetCounts:
        """Count every facet value over the current result, in one query.

        Each facet is a GROUP BY of the result; a UNION ALL sends them together
        as rows of (facet, value, modules). With a cache scope the rows are kept,
        keyed by the query actually applied.
        """
        cache_key = catalogue_cache.key(
            "counts", self.catalogue_version, self.cache_scope, self._applied_filters()
        )
        rows = catalogue_cache.get(cache_key)
        if catalogue_cache.missing(rows):
            rows = self._count_rows()
            catalogue_cache.remember(cache_key, rows)
        counts = FacetCounts(by_facet={name: Counter() for name in CHOICE_FACETS})
        track_at = {track.path: track for track in self.tracks}
        for facet, value, modules in rows:
            if facet == "track_path":
                if value in track_at:
                    counts.by_facet["track"][track_at[value].slug] += modules
                    counts.by_facet["audience"][track_at[value].audience] += modules
            elif value is not None:
                counts.by_facet[facet][value] += modules
            if facet == "format":
                counts.total += modules
        return counts

    def _applied_filters(self) -> list:
        """What decides the result: the cleaned values of every filter, sort excepted
        (invalid values are left out of cleaned_data, and so ignored by the filters)."""
        if not self.is_bound:
            return []
        self.form.errors  # noqa: B018 - validates the form, as `qs` does
        cleaned = self.form.cleaned_data
        return sorted((name, repr(value)) for name, value in cleaned.items() if name != "sort")

    def _count_rows(self) -> list[tuple]:
        result = self.qs.order_by()
        in_result = ModuleCompetence.objects.filter(module__in=result.values("pk")).order_by()
        groups = [
            _count_by(result.annotate(value=_parent_path()), "track_path", "value", "pk"),
            _count_by(result, "level", "level__code", "pk"),
            _count_by(result, "format", "format", "pk"),
            # A module counts once per code, even with two competences of one block.
            _count_by(in_result, "competence", "competence__code", "module_id"),
            _count_by(in_result, "block", "competence__block__code", "module_id"),
        ]
        return list(groups[0].union(*groups[1:], all=True))

    def facets(self, counts: FacetCounts) -> list[Facet]:
        selected = {
            name: set(self.data.getlist(name)) if self.is_bound else set() for name in CHOICE_FACETS
        }
        return [
            Facet(
                name=name,
                legend=str(self.filters[name].label),
                options=[
                    FacetOption(
                        value=value,
                        label=str(label),
                        count=counts.get(name, value),
                        checked=value in selected[name],
                    )
                    for value, label in self.choices[name].items()
                ],
            )
            for name in CHOICE_FACETS
            if self.choices[name]
        ]

    @property
    def clean_query(self) -> QueryDict:
        """The query string of the filters actually applied: what a shared link should carry."""
        query = QueryDict(mutable=True)
        if not self.is_bound:
            return query
        for name in self.filters:
            if name in self.form.errors:
                continue
            if name in CHOICE_FACETS:
                query.setlist(name, self.data.getlist(name))
            elif self.data.get(name, "").strip():
                query[name] = self.data[name]
        return query


def _parent_path():
    # A module is a direct child of its track: the parent's path is one step shorter.
    return Substr("path", 1, Length("path") - Page.steplen)


def _count_by(queryset: QuerySet, facet: str, value: str, counted: str) -> QuerySet:
    return (
        queryset.annotate(facet=Value(facet))
        .values_list("facet", value)
        .annotate(modules=Count(counted, distinct=True))
    )


def _under_any(tracks: list[TrackChoice]) -> Q:
    if not tracks:
        return Q(pk__in=[])
    query = Q()
    for track in tracks:
        query |= Q(path__startswith=track.path)
    return query
