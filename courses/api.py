"""The public, read-only JSON API: frameworks and the module catalogue.

One NinjaAPI mounted at /api/. The OpenAPI schema is served at /api/openapi.json;
the interactive docs page is off because ninja's Swagger UI loads its scripts
from a CDN, which neither our CSP nor our no-third-party promise allows.
"""

from datetime import datetime
from typing import Literal

from django.conf import settings
from django.db.models import OuterRef, Prefetch, Subquery
from django.db.models.functions import Length, Substr
from django.http import HttpRequest, QueryDict
from django.shortcuts import get_object_or_404
from ninja import Field, NinjaAPI, Query, Router, Schema
from ninja.errors import ValidationError
from ninja.pagination import LimitOffsetPagination, paginate
from wagtail.models import Page

from courses.filters import MAX_MINUTES, MAX_QUERY_LENGTH, ModuleFilter
from courses.models import Block, Framework, ModulePage, TrackPage

api = NinjaAPI(
    title="Campus Tiers-Lieux",
    version="1",
    description="Skills frameworks and training modules of Campus Tiers-Lieux. Read-only.",
    urls_namespace="api",
    docs_url=None,
)


class Pages(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(20, ge=1, le=100, description="How many items, at most 100.")
        # Bounded: an offset past the database's integer range was a 500.
        offset: int = Field(0, ge=0, le=1_000_000_000)

    def __init__(self, **kwargs):
        super().__init__(max_limit=100, **kwargs)


class NotFoundOut(Schema):
    detail: str


class MalformedOut(Schema):
    """A request refused before the API reads it (a NUL character, config.middleware)."""

    detail: str


class InvalidOut(Schema):
    """Ninja's answer to parameters it refuses (and to unknown facet values)."""

    detail: list[dict]


# --- Frameworks ---------------------------------------------------------------


class LevelOut(Schema):
    rank: int
    code: str
    label: str


class CompetenceOut(Schema):
    code: str
    title: str
    description: str
    external_uri: str


class BlockOut(Schema):
    code: str
    title: str
    description: str
    competences: list[CompetenceOut]


class FrameworkOut(Schema):
    code: str
    version: str
    title: str
    kind: str
    awarding_body: str
    levels: list[LevelOut]
    blocks: list[BlockOut]


frameworks = Router(tags=["frameworks"])


def _published_frameworks():
    return Framework.objects.published().prefetch_related(
        "levels",
        Prefetch("blocks", queryset=Block.objects.prefetch_related("competences")),
    )


@frameworks.get("", response={200: list[FrameworkOut], 400: MalformedOut, 422: InvalidOut})
@paginate(Pages)
def list_frameworks(request: HttpRequest):
    """Published frameworks, every version, newest version first within a code."""
    # Version labels are free text ("V9", "V10"): creation order is the truth.
    return _published_frameworks().order_by("code", "-created_at", "-pk")


@frameworks.get("/{code}", response={200: FrameworkOut, 400: MalformedOut, 404: NotFoundOut})
def get_framework(request: HttpRequest, code: str, version: str | None = None):
    """The newest published version of a framework, or the `version` asked for."""
    candidates = _published_frameworks().filter(code=code).newest_first()
    if version:
        candidates = candidates.filter(version=version)
    return get_object_or_404(candidates[:1])


# --- Modules ------------------------------------------------------------------


class TargetOut(Schema):
    competence: str = Field(..., alias="competence.code")
    title: str = Field(..., alias="competence.title")
    block: str = Field(..., alias="competence.block.code")
    target_level: str = Field(..., alias="target_level.code")


class ModuleOut(Schema):
    id: int
    title: str
    slug: str
    url: str | None
    summary: str
    format: str
    duration_minutes: int
    level: LevelOut | None
    track: str | None = Field(None, alias="track_slug", description="The track's slug.")
    audience: str | None
    targets: list[TargetOut]
    first_published_at: datetime | None

    @staticmethod
    def resolve_url(obj: ModulePage, context) -> str | None:
        # The platform's public address, as in mails and certificates: Wagtail's
        # Site row names whatever host it was created with (« localhost »).
        parts = obj.get_url_parts(context["request"])
        if parts is None or parts[2] is None:
            return None  # not routable
        return settings.SITE_URL + parts[2]


class ModuleQuery(Schema):
    """The catalogue's filters: several values of one facet widen, facets narrow."""

    q: str | None = Field(None, max_length=MAX_QUERY_LENGTH, description="Full-text search.")
    block: list[str] = Field([], description="Block codes, e.g. B1.")
    competence: list[str] = Field([], description="Competence codes, e.g. B1.2.")
    level: list[str] = Field([], description="Level codes, e.g. appliquer.")
    audience: list[Literal["facilitateurs", "agents_publics"]] = []
    format: list[Literal["en_ligne", "presentiel", "hybride"]] = []
    track: list[str] = Field([], description="Track slugs.")
    duration_min: int | None = Field(None, ge=0, le=MAX_MINUTES, description="Minutes.")
    duration_max: int | None = Field(None, ge=0, le=MAX_MINUTES, description="Minutes.")
    sort: Literal["relevance", "title", "duration", "newest"] | None = None


modules = Router(tags=["modules"])


@modules.get("", response={200: list[ModuleOut], 400: MalformedOut, 422: InvalidOut})
@paginate(Pages)
def list_modules(request: HttpRequest, filters: Query[ModuleQuery]):
    """Live public modules, filtered like the catalogue. Unknown facet values are a 422."""
    filterset = ModuleFilter(_as_query_dict(filters), queryset=ModulePage.objects.live().public())
    result = filterset.qs
    if filterset.ignored:
        raise ValidationError(
            [
                {
                    "type": "unknown_value",
                    "loc": ["query", item.name],
                    "msg": "Unknown value",
                    "input": item.value,
                }
                for item in filterset.ignored
            ]
        )
    track = TrackPage.objects.filter(
        path=Substr(OuterRef("path"), 1, Length(OuterRef("path")) - Page.steplen)
    )
    return result.with_cards().annotate(
        track_slug=Subquery(track.values("slug")[:1]),
        audience=Subquery(track.values("audience")[:1]),
    )


def _as_query_dict(filters: ModuleQuery) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in filters.model_dump(exclude_none=True).items():
        data.setlist(
            name, [str(item) for item in value] if isinstance(value, list) else [str(value)]
        )
    return data


api.add_router("/frameworks", frameworks)
api.add_router("/modules", modules)
