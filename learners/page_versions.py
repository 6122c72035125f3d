"""A signed-in learner's pages, kept rendered in the shared cache until something they show changes.

The module page, the lesson page and the dashboard « Mon parcours » show the
published content (the catalogue's version, courses/catalogue_cache.py) and
what one learner did (enrolments, lessons done, attempts, ledger, seats,
certificates, requests…). Their main fragment is cached per learner, keyed on
version numbers that writes move on, in every process:

- the learner's own version: any saved or deleted row of learners or
  certification that belongs to a learner (`learner_id`), and the learner's
  own account row;
- the sessions' version: any seat or session, whoever it belongs to, since
  another learner's seat changes the places left and the waiting ranks;
- everyone's version: any other row of courses, learners or certification
  (an award's title, a crosswalk, a view restriction…), rare writes that may
  show on anyone's page.

Writes that send no signal (`QuerySet.update`, `bulk_create`) call `touch`
or `touch_everyone` themselves. Entries also expire after FRAGMENT_SECONDS,
which bounds what a forgotten write path or the clock (a quiz's cooldown, a
session now over) can leave on a page. The cache is an optimisation only:
when it is unreachable, every page is rendered from the database.

The CSRF token is never stored: fragments are rendered with a placeholder that
each response replaces with its own token.
"""

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from functools import partial

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from config.cache import of_this_release, write_invalidation
from courses import catalogue_cache

logger = logging.getLogger(__name__)

FRAGMENT_SECONDS = 60
EVERYONE_KEY = "learners:pages-version:everyone"
SESSIONS_KEY = "learners:pages-version:sessions"
CSRF_PLACEHOLDER = "csrf-token-placeholder-0f3c9a"

# Rows written on every request or every submission that no cached page shows:
# moving a version on for them would only empty the cache. (An attempt's
# answers are saved with the attempt, whose own row moves its learner on.)
IGNORED = {
    ("learners", "activityevent"),
    ("learners", "attemptanswer"),
    # Written with its grading's rectification, which moves the learner's version itself.
    ("learners", "gradingcorrection"),
    ("learners", "invitationbatch"),
    ("certification", "bulkissue"),
    ("certification", "bulkissuechunk"),
    ("certification", "evidencepack"),
}
SESSION_MODELS = {("learners", "trainingsession"), ("learners", "seat"), ("learners", "halfday")}
WATCHED_APPS = {"courses", "learners", "certification", "wagtailcore"}


LEARNER_KEY_PREFIX = "learners:pages-version:learner:"
LEARNER_KEY_SECONDS = 24 * 3600


def _learner_key(learner_id: int) -> str:
    return f"{LEARNER_KEY_PREFIX}{learner_id}"


def _fresh() -> int:
    # Not 0 and never used before: a version lost with its key (eviction,
    # restart, expiry) must not meet fragments stored under the old number again.
    return time.time_ns()


def _timeout(key: str) -> int | None:
    # One learner key per learner would otherwise stay forever; a day is far
    # above FRAGMENT_SECONDS, and a key gone restarts from a fresh number.
    return LEARNER_KEY_SECONDS if key.startswith(LEARNER_KEY_PREFIX) else None


def _move_on(keys: Iterable[str]) -> None:
    keys = list(keys)
    if not keys:
        return
    _move_on_now(keys)
    if transaction.get_connection().in_atomic_block:
        # Once more after commit: a page rendered between the write and its
        # commit read the old rows under the new version.
        transaction.on_commit(partial(_move_on_now, keys))


def _move_on_now(keys: list[str]) -> None:
    # Fresh numbers rather than incr: one write per timeout, which
    # config/cache.py tries even in its back-off window and reports when lost.
    by_timeout: dict[int | None, dict[str, int]] = {}
    for key in keys:
        by_timeout.setdefault(_timeout(key), {})[key] = _fresh()
    for timeout, data in by_timeout.items():
        write_invalidation(cache, data, timeout)


def touch(learner_ids: Iterable[int]) -> None:
    """What these learners see has changed (call it after writes that send no signal)."""
    _move_on(_learner_key(pk) for pk in set(learner_ids) if pk is not None)


def touch_sessions() -> None:
    _move_on([SESSIONS_KEY])


def touch_everyone() -> None:
    _move_on([EVERYONE_KEY])


def version_keys(learner_id: int) -> list[str]:
    return [catalogue_cache.VERSION_KEY, EVERYONE_KEY, SESSIONS_KEY, _learner_key(learner_id)]


def current_versions(keys: list[str], found: dict) -> tuple:
    """The versions under `keys`, starting the missing ones afresh."""
    values = []
    for key in keys:
        value = found.get(key)
        if value is None:
            value = _fresh()
            # add, not set: another process may have just moved it on.
            if not cache.add(key, value, _timeout(key)):
                value = cache.get(key)
        values.append(value)
    return tuple(values)


def versions(learner_id: int) -> tuple | None:
    """The versions a learner's fragments are checked against (None: the cache is unreachable)."""
    keys = version_keys(learner_id)
    try:
        current = current_versions(keys, cache.get_many(keys))
    except Exception:
        logger.warning("Cache unreachable: learners' pages are rendered from the database.")
        return None
    # A degraded cache answers misses: nothing is stored under them.
    return None if None in current else current


def address_digest(request: HttpRequest, *more) -> str:
    """What a learner's cached page or fragment depends on besides the versions."""
    # The date: sessions over and certificates expired leave the page at midnight.
    parts = (translation.get_language(), timezone.localdate().isoformat(), request.path, *more)
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def fragment_key(request: HttpRequest, kind: str, page_id: int | None) -> str:
    return of_this_release(
        f"learners:fragment:{kind}:{page_id}:{request.user.pk}:{address_digest(request)}"
    )


def response_token(request: HttpRequest) -> str:
    """The token to write in forms: the placeholder while the whole page may be kept
    (learners/page_cache.py, which then writes the requester's own)."""
    if getattr(request, "learner_page_plan", None) is not None:
        return CSRF_PLACEHOLDER
    return get_token(request)


# Only the forms' hidden field: the same text typed into a title or a comment is
# escaped, never inside an attribute of ours, and so never becomes a token.
TOKEN_FIELD = f'name="csrfmiddlewaretoken" value="{CSRF_PLACEHOLDER}"'


def with_token(request: HttpRequest, html: str) -> SafeString:
    if TOKEN_FIELD in html:
        token = response_token(request)
        html = html.replace(TOKEN_FIELD, f'name="csrfmiddlewaretoken" value="{token}"')
    return mark_safe(html)  # noqa: S308 - our own template's output


def cached_fragment(
    request: HttpRequest, kind: str, page_id: int | None, render: Callable[[str], str]
) -> SafeString:
    """The fragment `render(csrf_token)` would give, from the cache when nothing it shows moved.

    The fragment and the versions it was rendered under are read in one round
    trip: under load a round trip costs more than the rest of a cached page.
    `render` receives the token to write in forms: a placeholder when the result
    is stored, so that no response ever carries another one's token.
    """
    # The whole page may now be kept: its learner-dependent part is versioned.
    request.learner_fragment_rendered = True
    key = fragment_key(request, kind, page_id)
    keys = version_keys(request.user.pk)
    try:
        found = cache.get_many([key, *keys])
        current = current_versions(keys, found)
    except Exception:
        current = None
    if current is None or None in current:
        logger.warning("Cache unreachable: learners' pages are rendered from the database.")
        return mark_safe(render(response_token(request)))  # noqa: S308
    stored = found.get(key)
    if stored is not None and stored[0] == current:
        return with_token(request, stored[1])
    html = render(CSRF_PLACEHOLDER)
    try:
        cache.set(key, (current, html), FRAGMENT_SECONDS)
    except Exception:
        logger.warning("Cache unreachable: a learner's page is not remembered.")
    return with_token(request, html)


@receiver([post_save, post_delete])
def move_on_after_a_write(sender, instance=None, **kwargs) -> None:
    meta = sender._meta
    label = (meta.app_label, meta.model_name)
    if meta.app_label not in WATCHED_APPS or label in IGNORED:
        return
    if label in SESSION_MODELS:
        touch_sessions()
    elif meta.app_label == "learners" and meta.model_name == "user":
        touch([instance.pk])
    elif getattr(instance, "learner_id", None) is not None:
        touch([instance.learner_id])
    elif meta.app_label == "wagtailcore" and meta.model_name not in {
        "pageviewrestriction",
        "pageviewrestriction_groups",
    }:
        # Pages themselves move the catalogue's version on; revisions, logs and
        # locks, written on every edit, show on no learner's page.
        return
    else:
        touch_everyone()


@receiver(m2m_changed)
def move_on_after_a_relation(sender, **kwargs) -> None:
    # A session's trainers, a restriction's groups, a module's prerequisites.
    if kwargs.get("action", "").startswith("post_") and sender._meta.app_label in WATCHED_APPS:
        touch_everyone()
