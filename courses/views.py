import copy
import time

from django.contrib.messages import get_messages
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from courses import catalogue_cache
from courses.filters import MAX_QUERY_LENGTH, Ignored, ModuleFilter
from courses.models import CatalogPage, Competence, Framework, ModuleCompetence, ModulePage
from courses.routing import find_site

MODULES_PER_PAGE = 20
CATALOGUE_TEMPLATE = "courses/catalog_page.html"


# The catalogue page under the current catalogue version, in this process: {version: page}.
_catalogue_pages: dict = {}
_UNKNOWN = object()


def _live_catalogue_page(request: HttpRequest) -> CatalogPage | None:
    current = catalogue_cache.version(request)
    if current is None:  # the cache is unreachable
        return CatalogPage.objects.live().first()
    # One lookup, then a local: another thread (runserver, a threaded worker) may
    # clear the dict between a membership test and a read.
    page = _catalogue_pages.get(current, _UNKNOWN)
    if page is _UNKNOWN:
        page_key = catalogue_cache.key("page", current)
        page = catalogue_cache.get(page_key)
        if catalogue_cache.missing(page):
            page = CatalogPage.objects.live().first()
            catalogue_cache.remember(page_key, page)
        _catalogue_pages.clear()
        _catalogue_pages[current] = page
    # Each request gets its own copy: Wagtail caches per-request things on page objects.
    return copy.copy(page) if page is not None else None


def catalogue_page(request: HttpRequest) -> HttpResponse:
    """The catalogue at a stable URL, whatever the page's slug in the tree.

    Remembered with the catalogue's results (any page saved moves the version
    on), in the shared cache and in this process.
    """
    page = _live_catalogue_page(request)
    if page is None:
        raise Http404
    return catalogue(request, page)


def catalogue(request: HttpRequest, page: CatalogPage) -> HttpResponse:
    """Modules of the catalogue, filtered by the GET form; bad values are ignored and said so.

    The same query shows every visitor the same results: the template keeps their
    HTML in the shared cache (courses.catalogue_cache: any page or framework change
    moves its version on). The results are computed only when they are rendered
    or read, so a remembered query costs no query beyond the page itself.
    """
    computed: dict = {}

    def results() -> dict:
        if not computed:
            computed.update(_catalogue_results(request, page))
        return computed

    def lazy(name: str) -> SimpleLazyObject:
        return SimpleLazyObject(lambda: results()[name])

    catalogue_version = catalogue_cache.version(request)
    fragment_key = page_key = None
    if catalogue_version is not None:
        terms = (page.pk, get_language(), request.get_host(), _cache_terms(request))
        fragment_key = catalogue_cache.key("html", catalogue_version, *terms)
        if _sees_the_shared_page(request):
            # The frame marks the catalogue in the menu at its stable URL only.
            view_name = getattr(request.resolver_match, "view_name", None)
            page_key = catalogue_cache.key("shared-page", catalogue_version, *terms, view_name)
            parts = _kept_shared_page(page_key)
            if parts is None:
                parts = catalogue_cache.get(page_key)
                if not catalogue_cache.missing(parts):
                    _keep_shared_page(page_key, parts)
            if not catalogue_cache.missing(parts):
                return HttpResponse(catalogue_cache.fill(parts, request))
    context = {
        "page": page,
        "self": page,
        "fragment_key": fragment_key,
        "fragment_seconds": catalogue_cache.CATALOGUE_CACHE_SECONDS,
        "searched": _searched(request),
        **{
            name: lazy(name)
            for name in (
                "filterset",
                "facets",
                "modules",
                "paginator",
                "page_range",
                "query",
                "ignored",
            )
        },
    }
    if page_key is not None:
        parts = catalogue_cache.render_shared(CATALOGUE_TEMPLATE, context, request)
        if parts is not None:
            catalogue_cache.remember(page_key, parts)
            _keep_shared_page(page_key, parts)
            return HttpResponse(catalogue_cache.fill(parts, request))
    return TemplateResponse(request, CATALOGUE_TEMPLATE, context)


# This process's copies of the shared pages, keyed (as in the shared cache) by the
# catalogue's version: a Redis round trip cost a fifth of such a page. Bounded, and
# emptied whenever it fills, since old versions' keys are never asked for again.
# Kept no longer than the shared entries, which bound what a change made without
# signals leaves behind.
_shared_pages: dict[str, tuple[list[str], float]] = {}
SHARED_PAGES_KEPT = 64


def _kept_shared_page(key: str) -> list[str] | None:
    parts, until = _shared_pages.get(key, (None, 0.0))
    return parts if time.monotonic() < until else None


def _keep_shared_page(key: str, parts: list[str]) -> None:
    if len(_shared_pages) >= SHARED_PAGES_KEPT:
        _shared_pages.clear()
    _shared_pages[key] = (parts, time.monotonic() + catalogue_cache.CATALOGUE_CACHE_SECONDS)


def _sees_the_shared_page(request: HttpRequest) -> bool:
    """Whether the page's frame is the one every anonymous visitor sees.

    A signed-in visitor has their own menu; a message (« you have signed out »)
    is shown once, to its addressee only.
    """
    return (
        request.method in ("GET", "HEAD")
        and not request.user.is_authenticated
        and not get_messages(request)
    )


# Only the catalogue's own parameters name a cached copy: a query string padded
# with anything else shares the copy of the same search instead of adding one.
CACHED_PARAMETERS = frozenset(ModuleFilter.base_filters) | {"page"}


def _cache_terms(request: HttpRequest) -> list:
    return sorted(
        (name, values) for name, values in request.GET.lists() if name in CACHED_PARAMETERS
    )


def _catalogue_results(request: HttpRequest, page: CatalogPage) -> dict:
    # The cards' links ({% pageurl %}) read the request's site: found once, from the cache.
    find_site(request)
    modules = ModulePage.objects.live().public().descendant_of(page)
    # Keyed by the catalogue page: its modules are the base of every facet.
    filterset = ModuleFilter(
        request.GET, queryset=modules, request=request, cache_scope=("catalogue", page.pk)
    )
    counts = filterset.facet_counts()
    # Cards never read the quiz or the objectives: their JSON and HTML stay in the database.
    paginator = Paginator(
        filterset.qs.with_cards().defer_streamfields().defer("objectives"), MODULES_PER_PAGE
    )
    # The facet aggregate already counted the result: no second COUNT query.
    paginator.count = counts.total
    results, page_notice = _page_of(paginator, request.GET.get("page") or "1")
    ignored = filterset.ignored
    if page_notice:
        ignored.append(Ignored("page", str(_("Page")), request.GET["page"]))
    return {
        "filterset": filterset,
        "facets": filterset.facets(counts),
        "modules": results,
        "paginator": paginator,
        "page_range": list(paginator.get_elided_page_range(results.number)),
        "query": filterset.clean_query,
        "ignored": ignored,
    }


def _searched(request: HttpRequest) -> str:
    """The search the filter applies, for the page's title: none when it refused it.

    Read from the request rather than from the results, which a remembered page
    never computes.
    """
    query = request.GET.get("q", "").strip()
    return query if len(query) <= MAX_QUERY_LENGTH else ""


def _page_of(paginator: Paginator, number: str):
    """The requested page, or the nearest real one and whether the request was off."""
    try:
        return paginator.page(number), False
    except PageNotAnInteger:
        return paginator.page(1), True
    except EmptyPage:
        nearest = paginator.num_pages if int(number) > 1 else 1
        return paginator.page(nearest), True


def framework_page(request: HttpRequest, code: str, version: str | None = None) -> HttpResponse:
    """A framework's public page: the newest published version unless one is named."""
    frameworks = Framework.objects.filter(code=code)
    # Staff who manage frameworks may look at a draft before publishing it.
    if not request.user.has_perm("courses.change_framework"):
        frameworks = frameworks.published()
    framework = (
        frameworks.filter(version=version) if version else frameworks.published().newest_first()
    ).first()
    if framework is None:
        raise Http404
    live_targets = (
        ModuleCompetence.objects.filter(module__in=ModulePage.objects.live().public())
        .select_related("module", "target_level")
        .order_by("module__title", "module_id")
    )
    # Three queries for blocks, competences and modules, whatever their number.
    blocks = framework.blocks.order_by("order", "code").prefetch_related(
        Prefetch(
            "competences",
            queryset=Competence.objects.order_by("order", "code").prefetch_related(
                Prefetch("module_targets", queryset=live_targets, to_attr="live_targets")
            ),
        )
    )
    levels = list(framework.levels.order_by("rank"))
    return TemplateResponse(
        request,
        "courses/framework_page.html",
        {
            "framework": framework,
            "blocks": blocks,
            "levels": levels,
            "target_level": next(
                (level for level in levels if level.rank == framework.target_level_rank), None
            ),
            "versions": Framework.objects.published().filter(code=code).newest_first(),
        },
    )
