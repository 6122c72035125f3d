"""Serve pages in a fixed, small number of queries.

Wagtail resolves a URL by walking down the tree: the site's root page, then two
queries per level (the child, then its specific row). Our pages define no routes
of their own, so the page at the end of a path can be found by its `url_path`
at once. Anything not found that way goes through Wagtail's own walk.

What a path leads to (site, page, parent, view restrictions) is then kept in the
shared cache behind the catalogue's version, which any saved page or view
restriction moves on: a page already visited is served without a query or a
second round trip to the cache.
"""

import logging
import time

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import split_domain_port
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.url_routing import RouteResult
from wagtail.views import serve as wagtail_serve

from config.cache import of_this_release, write_invalidation
from courses import catalogue_cache

logger = logging.getLogger(__name__)

SITE_CACHE_SECONDS = 300
# Short: a route holds the page's live flag and view restrictions, and a
# version move lost to a Redis failure leaves it served until it expires.
ROUTE_CACHE_SECONDS = 60
SITES_VERSION_KEY = "courses:sites-version"


def _host(request: HttpRequest) -> tuple[str, int | str]:
    return split_domain_port(request._get_raw_host())[0], request.get_port()


def _read_with_sites_version(key: str, *others: str) -> tuple[int, object, dict]:
    """The sites' version, what `key` holds if it was stored under that version, and the
    `others` keys, in one round trip (under load a round trip costs more than a cached
    page's rendering)."""
    found = cache.get_many([SITES_VERSION_KEY, key, *others])
    version = found.get(SITES_VERSION_KEY)
    if version is None:
        version = cache.get_or_set(SITES_VERSION_KEY, 0, None)
    stored = found.get(key)
    if stored is not None and stored[0] == version:
        return version, stored[1], found
    return version, None, found


def find_site(request: HttpRequest) -> Site | None:
    """Site.find_for_request, remembered in the shared cache: sites almost never change.

    The cache is an optimisation only: when it is unreachable (Redis down), the
    site is looked up in the database as Wagtail would.
    """
    if not hasattr(request, "_wagtail_site"):
        key = of_this_release("courses:site:{}:{}".format(*_host(request)))
        try:
            version, site, _ = _read_with_sites_version(key)
        except Exception:
            logger.warning("Cache unreachable: looking the site up in the database.")
            return Site.find_for_request(request)
        if site is None:
            site = Site.find_for_request(request)
            try:
                cache.set(key, (version, site), SITE_CACHE_SECONDS)
            except Exception:
                logger.warning("Cache unreachable: the site lookup is not remembered.")
        # Wagtail reads the request's site from this attribute.
        request._wagtail_site = site
    return request._wagtail_site


@receiver([post_save, post_delete], sender=Site)
def forget_sites(**kwargs) -> None:
    """A changed site invalidates every remembered host, in every process."""
    # A fresh number, never used before, in one write tried even in the cache's
    # back-off window; a failure leaves entries to expire within SITE_CACHE_SECONDS.
    write_invalidation(cache, {SITES_VERSION_KEY: time.time_ns()}, None)


def _locate(root_path: str, components: list[str]) -> tuple | None:
    """The page at the end of a path: (its pk, its model, its parent) or None, in one query."""
    target_path = root_path + "".join(f"{component}/" for component in components)
    parent_path = target_path[: target_path.rstrip("/").rfind("/") + 1]
    found = {
        page.url_path: page for page in Page.objects.filter(url_path__in=[target_path, parent_path])
    }
    if target_path not in found:
        return None
    target = found[target_path]
    return target.pk, target.specific_class, found.get(parent_path)


def _route_entry(request: HttpRequest, path: str) -> tuple | None:
    """(site, specific page, parent, view restrictions) or None, worked out from the database."""
    site = find_site(request)
    if site is None:
        return None
    try:
        root_paths = Site.get_site_root_paths()  # kept in the cache by Wagtail
    except Exception:
        return None  # the cache is unreachable: Wagtail's own walk still works
    root_path = next((root.root_path for root in root_paths if root.site_id == site.pk), None)
    components = [component for component in path.split("/") if component]
    if root_path is None or not components:
        return None
    located = _locate(root_path, components)
    if located is None:
        return None
    pk, model, parent = located
    # A page type may name the relations its own page needs (ModulePage: its level).
    related = getattr(model, "route_select_related", ())
    page = model._default_manager.select_related(*related).filter(pk=pk).first()
    if page is None:
        return None
    return site, page, parent, list(page.get_view_restrictions())


def find_route(request: HttpRequest, path: str) -> RouteResult | None:
    # Where a path leads (its site, the page, its parent and the view
    # restrictions over it) changes only when a page, a restriction or a site is
    # saved: pages and restrictions move the catalogue's version on, sites their
    # own. The page itself is kept too: its row is part of what publishing saves.
    catalogue_version = catalogue_cache.version(request)
    key = entry = None
    if catalogue_version is not None:
        key = catalogue_cache.key("served-page", catalogue_version, *_host(request), path)
        try:
            sites_version, entry, found = _read_with_sites_version(key, catalogue_cache.VERSION_KEY)
        except Exception:
            key = None
        else:
            # The version came from this process's memory, up to LOCAL_SECONDS
            # old: the shared one, read in the same round trip, decides, so a
            # page deleted or restricted in another process is never served
            # from its old route.
            shared = found.get(catalogue_cache.VERSION_KEY)
            if shared != catalogue_version:
                catalogue_cache.settle(request, shared)
                entry = None
                key = catalogue_cache.key("served-page", shared, *_host(request), path)
    if entry is None:
        entry = _route_entry(request, path)
        if entry is None:
            # Paths that lead nowhere are not remembered: anyone can make up more.
            return None
        if key is not None:
            _remember(key, sites_version, entry)
    site, page, parent, restrictions = entry
    request._wagtail_site = site
    if parent is not None:
        # Breadcrumbs ask for the parent: hand it over as Wagtail's walk would.
        page._cached_parent_obj = parent
    # Wagtail's before-serve hook asks for them: two queries (ancestors, then
    # restrictions) saved on every page.
    page.get_view_restrictions = lambda: restrictions
    try:
        return page.route(request, [])
    except Http404:
        return None


def _remember(key: str, sites_version: int, entry: tuple) -> None:
    try:
        cache.set(key, (sites_version, entry), ROUTE_CACHE_SECONDS)
    except Exception:
        logger.warning("Cache unreachable: a route is not remembered.")


@receiver([post_save, post_delete], sender=PageViewRestriction)
def forget_routes_on_restriction(**kwargs) -> None:
    catalogue_cache.forget()


@receiver(m2m_changed, sender=PageViewRestriction.groups.through)
def forget_routes_on_restricted_groups(**kwargs) -> None:
    catalogue_cache.forget()


def serve(request: HttpRequest, path: str) -> HttpResponse:
    """Wagtail's serve view (hooks, privacy, caching of the route), routed faster."""
    route = find_route(request, path)
    if route is not None:
        # Wagtail reads the route from this attribute before walking the tree.
        request._wagtail_route_for_request = route
    return wagtail_serve(request, path)
