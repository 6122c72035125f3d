"""What the catalogue computes the same way for every visitor, kept in the shared cache.

The facet choices (tracks, blocks, competences, levels in use) and the facet
counts of a query depend only on the published tree and the frameworks: every
entry is keyed by a version number that any saved or deleted page, targeted
competence or framework row moves on, in every process. Entries also expire
after CATALOGUE_CACHE_SECONDS, which bounds what a change made without signals
(a bulk import) can leave behind. The cache is an optimisation only: when it is
unreachable, everything is computed from the database.

Each process also remembers the version it last read for LOCAL_SECONDS: under
load, a round trip to Redis costs more than rendering a cached page's shell,
and the catalogue made three per request. A change made in this process is
seen at once; one made in another process within LOCAL_SECONDS.

A whole page that anonymous visitors share is kept too, with holes where each
visitor's own CSRF token and path go (render_shared, fill): rendering the
page's frame (base.html) cost more than everything else the page did.
"""

import hashlib
import logging
import re
import secrets
import time

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template import loader
from django.utils.html import escape
from wagtail.models import Page

from config.cache import of_this_release, write_invalidation
from courses.models import Block, Competence, Framework, Level, ModuleCompetence

logger = logging.getLogger(__name__)

CATALOGUE_CACHE_SECONDS = 300
VERSION_KEY = "courses:catalogue-version"
LOCAL_SECONDS = 1.0
_MISSING = object()
# (version, time.monotonic() when read): this process's memory of the shared version.
_local: tuple[int | None, float] = (None, 0.0)


def _fresh_version() -> int:
    """A version never used before, for a version key that is missing (new, flushed or evicted).

    Starting again from 0 could serve entries stored under an earlier 0 that
    are still in the cache.
    """
    return time.time_ns()


def _remember_locally(current: int | None) -> None:
    global _local
    _local = (current, time.monotonic())


def version(request=None) -> int | None:
    """The catalogue's current version (None: the cache is unreachable), read once per request."""
    if request is not None and hasattr(request, "_catalogue_version"):
        return request._catalogue_version
    current, read_at = _local
    if current is None or time.monotonic() - read_at >= LOCAL_SECONDS:
        try:
            current = cache.get_or_set(VERSION_KEY, _fresh_version, None)
        except Exception:
            logger.warning("Cache unreachable: the catalogue is computed from the database.")
            current = None
        _remember_locally(current)
    if request is not None:
        request._catalogue_version = current
    return current


def settle(request, current: int | None) -> None:
    """Take `current`, just read from the shared cache, as the version (None: missing)."""
    _remember_locally(current)
    if request is not None:
        request._catalogue_version = current


def key(kind: str, catalogue_version: int | None, *parts) -> str | None:
    if catalogue_version is None:
        return None
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()
    return of_this_release(f"courses:catalogue:{catalogue_version}:{kind}:{digest}")


def get(cache_key: str | None):
    """The remembered value, or _MISSING (also when the cache is unreachable)."""
    if cache_key is None:
        return _MISSING
    try:
        return cache.get(cache_key, _MISSING)
    except Exception:
        return _MISSING


def remember(cache_key: str | None, value) -> None:
    if cache_key is None:
        return
    try:
        cache.set(cache_key, value, CATALOGUE_CACHE_SECONDS)
    except Exception:
        logger.warning("Cache unreachable: the catalogue's facets are not remembered.")


def missing(value) -> bool:
    return value is _MISSING


# Each rendering draws its own random marks: no content (a module's title, a
# filter value echoed in a notice) can guess them and open a hole of its own.
_MARK = "catalogue-hole-{tag}-"
_CSRF, _PATH = "csrf", "path"


def render_shared(template_name: str, context: dict, request: HttpRequest) -> list[str] | None:
    """The page as any anonymous visitor sees it, split around their own parts:
    [html, hole, html, hole, …, html] where a hole is "csrf" or "path".

    The visitor's CSRF token is never rendered, so it can never be stored or
    served to someone else; nor is the path, so that a query string padded with
    unknown parameters still shares the copy. None when a mark came out altered
    (a filter applied to it): the caller then renders as usual.
    """
    mark = _MARK.format(tag=secrets.token_hex(8))
    # An instance attribute shadows the method for this rendering only.
    request.get_full_path = lambda force_append_slash=False: mark + _PATH
    try:
        html = loader.render_to_string(
            template_name, {**context, "csrf_token": mark + _CSRF}, request
        )
    finally:
        del request.get_full_path
    parts = re.split(f"{re.escape(mark)}({_CSRF}|{_PATH})", html)
    if any(mark in part for part in parts[::2]):
        return None
    return parts


def fill(parts: list[str], request: HttpRequest) -> str:
    """A page from render_shared, completed for this visitor."""
    own = {}
    if _CSRF in parts[1::2]:
        # As {% csrf_token %} would: a freshly masked token, and the cookie set if missing.
        own[_CSRF] = escape(get_token(request))
    if _PATH in parts[1::2]:
        # As {{ request.get_full_path }} would, escaped.
        own[_PATH] = escape(request.get_full_path())
    return "".join(part if index % 2 == 0 else own[part] for index, part in enumerate(parts))


def _move_on() -> None:
    # A fresh number rather than incr: one write, which config/cache.py tries
    # even in its back-off window (incr would be skipped there, unnoticed).
    current = _fresh_version()
    if write_invalidation(cache, {VERSION_KEY: current}, None):
        _remember_locally(current)
    else:
        # This process must not keep serving what it remembered under the old version.
        _remember_locally(None)


def forget() -> None:
    """Move the version on now, and again once the transaction commits.

    Page deletions and moves run in a transaction: a request between the signal
    and the commit reads the old rows and stores them under the new version,
    which the second move leaves behind.
    """
    _move_on()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_move_on)


@receiver([post_save, post_delete])
def forget_on_change(sender, **kwargs) -> None:
    """Any page (publishing saves it), targeted competence or framework row changes the facets."""
    if issubclass(sender, Page | ModuleCompetence | Competence | Block | Level | Framework):
        forget()
