"""What the catalogue computes the same way for every visitor, kept in the shared cache.

The facet choices (tracks, blocks, competences, levels in use) and the facet
counts of a query depend only on the published tree and the frameworks: every
entry is keyed by a version number that any saved or deleted page, targeted
competence or framework row moves on, in every process. Entries also expire
after CATALOGUE_CACHE_SECONDS, which bounds what a change made without signals
(a bulk import) can leave behind. The cache is an optimisation only: when it is
unreachable, everything is computed from the database.
"""

import hashlib
import logging

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Page

from courses.models import Block, Competence, Framework, Level, ModuleCompetence

logger = logging.getLogger(__name__)

CATALOGUE_CACHE_SECONDS = 300
VERSION_KEY = "courses:catalogue-version"
_MISSING = object()


def version(request=None) -> int | None:
    """The catalogue's current version (None: the cache is unreachable), read once per request."""
    if request is not None and hasattr(request, "_catalogue_version"):
        return request._catalogue_version
    try:
        current = cache.get_or_set(VERSION_KEY, 0, None)
    except Exception:
        logger.warning("Cache unreachable: the catalogue is computed from the database.")
        current = None
    if request is not None:
        request._catalogue_version = current
    return current


def key(kind: str, catalogue_version: int | None, *parts) -> str | None:
    if catalogue_version is None:
        return None
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()
    return f"courses:catalogue:{catalogue_version}:{kind}:{digest}"


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


def forget() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        try:
            cache.set(VERSION_KEY, 1, None)
        except Exception:
            logger.warning("Cache unreachable: catalogue entries expire on their own.")
    except Exception:
        logger.warning("Cache unreachable: catalogue entries expire on their own.")


@receiver([post_save, post_delete])
def forget_on_change(sender, **kwargs) -> None:
    """Any page (publishing saves it), targeted competence or framework row changes the facets."""
    if issubclass(sender, Page | ModuleCompetence | Competence | Block | Level | Framework):
        forget()
