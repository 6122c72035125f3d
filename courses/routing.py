"""Serve pages in a fixed, small number of queries.

Wagtail resolves a URL by walking down the tree: the site's root page, then two
queries per level (the child, then its specific row). Our pages define no routes
of their own, so the page at the end of a path can be found by its `url_path`
at once. Anything not found that way goes through Wagtail's own walk.
"""

import logging

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import split_domain_port
from wagtail.models import Page, Site
from wagtail.url_routing import RouteResult
from wagtail.views import serve as wagtail_serve

logger = logging.getLogger(__name__)

SITE_CACHE_SECONDS = 300
SITES_VERSION_KEY = "courses:sites-version"


def _site_cache_key(request: HttpRequest) -> str:
    version = cache.get_or_set(SITES_VERSION_KEY, 0, None)
    hostname = split_domain_port(request._get_raw_host())[0]
    return f"courses:site:{version}:{hostname}:{request.get_port()}"


def find_site(request: HttpRequest) -> Site | None:
    """Site.find_for_request, remembered in the shared cache: sites almost never change.

    The cache is an optimisation only: when it is unreachable (Redis down), the
    site is looked up in the database as Wagtail would.
    """
    if not hasattr(request, "_wagtail_site"):
        try:
            key = _site_cache_key(request)
            site = cache.get(key)
        except Exception:
            logger.warning("Cache unreachable: looking the site up in the database.")
            return Site.find_for_request(request)
        if site is None:
            site = Site.find_for_request(request)
            try:
                cache.set(key, site, SITE_CACHE_SECONDS)
            except Exception:
                logger.warning("Cache unreachable: the site lookup is not remembered.")
        # Wagtail reads the request's site from this attribute.
        request._wagtail_site = site
    return request._wagtail_site


@receiver([post_save, post_delete], sender=Site)
def forget_sites(**kwargs) -> None:
    """A changed site invalidates every remembered host, in every process."""
    try:
        cache.incr(SITES_VERSION_KEY)
    except ValueError:
        cache.set(SITES_VERSION_KEY, 1, None)
    except Exception:
        # Entries expire on their own within SITE_CACHE_SECONDS.
        logger.warning("Cache unreachable: remembered sites expire on their own.")


def find_route(request: HttpRequest, path: str) -> RouteResult | None:
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
    target_path = root_path + "".join(f"{component}/" for component in components)
    parent_path = target_path[: target_path.rstrip("/").rfind("/") + 1]
    found = {
        page.url_path: page for page in Page.objects.filter(url_path__in=[target_path, parent_path])
    }
    if target_path not in found:
        return None
    target = found[target_path]
    model = target.specific_class
    # A page type may name the relations its own page needs (ModulePage: its level).
    related = getattr(model, "route_select_related", ())
    page = model._default_manager.select_related(*related).get(pk=target.pk)
    if parent_path in found:
        # Breadcrumbs ask for the parent: hand it over as Wagtail's walk would.
        page._cached_parent_obj = found[parent_path]
    try:
        return page.route(request, [])
    except Http404:
        return None


def serve(request: HttpRequest, path: str) -> HttpResponse:
    """Wagtail's serve view (hooks, privacy, caching of the route), routed faster."""
    route = find_route(request, path)
    if route is not None:
        # Wagtail reads the route from this attribute before walking the tree.
        request._wagtail_route_for_request = route
    return wagtail_serve(request, path)
