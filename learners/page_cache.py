"""A signed-in learner's whole page, answered from the shared cache without rendering it.

The module page, the lesson page and the dashboard keep their main fragment in
the cache (learners/page_versions.py), but the shell around it (menu, language
switch, footer) and the learner's row, read to draw that shell, still cost most
of a cached page's time. So once a page has rendered a learner fragment, the
whole response is kept under the same versions, and the same learner asking for
the same address again gets it back:

- who asks is checked as on every signed-in request, by Django itself (the
  session's row and the account's, one query: learners/account_sessions.py; a
  changed password or a deactivated account ends the session even when the
  cache missed the version move), and the page is kept for that account only;
- the page's versions are its fragment's: whatever the page shows moves them on,
  and entries expire after FRAGMENT_SECONDS as fragments do;
- the CSRF token is a placeholder in the stored page, replaced on every response
  with the requester's own;
- never while messages wait to be shown, only for GET without a query string;
- the lesson's « viewed » record (training evidence) is written on every answer
  that shows the lesson, and on no refusal (view restrictions, errors).

The cache is an optimisation only: unreachable, every page is rendered.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.session import SessionStorage
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from config.cache import of_this_release
from learners import activity, page_versions
from learners.session_models import ActivityEvent

logger = logging.getLogger(__name__)

# Wagtail keeps the password-protected pages a session has unlocked here: a page
# unlocked in one session must not be shown to another session of the same account.
PASSED_RESTRICTIONS_KEY = "passed_page_view_restrictions"


@dataclass(frozen=True)
class StoredPage:
    versions: tuple
    content: str
    headers: tuple[tuple[str, str], ...]
    # The lesson whose viewing is recorded on every answer, if any.
    lesson_viewed: int | None


@dataclass(frozen=True)
class Plan:
    """A request that may be answered from, or kept in, the cache."""

    key: str
    versions: tuple
    user_id: str


def placeholder_token(request: HttpRequest) -> dict:
    """Context processor: while a page may be kept, its forms carry the placeholder."""
    if getattr(request, "learner_page_plan", None) is not None:
        return {"csrf_token": page_versions.CSRF_PLACEHOLDER}
    return {}


def _messages_waiting(request: HttpRequest) -> bool:
    # Both places the default storage (FallbackStorage) keeps them; read, not consumed.
    return CookieStorage.cookie_name in request.COOKIES or SessionStorage.session_key in (
        request.session
    )


def _page_key(request: HttpRequest, user_id: str) -> str:
    digest = page_versions.address_digest(
        request, request.get_host(), sorted(request.session.get(PASSED_RESTRICTIONS_KEY, []))
    )
    return of_this_release(f"learners:page:{user_id}:{digest}")


def _plan(request: HttpRequest) -> tuple[Plan | None, StoredPage | None]:
    # Not with a query string: the pages kept take none, and every variant of one
    # would be one more copy in the cache.
    if (
        request.method != "GET"
        or request.GET
        or settings.SESSION_COOKIE_NAME not in request.COOKIES
    ):
        return None, None
    # Who the session says; Django checks it against the account before any answer.
    user_id = request.session.get(SESSION_KEY)
    if not user_id or _messages_waiting(request):
        return None, None
    user_id = str(user_id)
    key = _page_key(request, user_id)
    keys = page_versions.version_keys(user_id)
    try:
        found = cache.get_many([key, *keys])
        current = page_versions.current_versions(keys, found)
    except Exception:
        logger.warning("Cache unreachable: learners' pages are rendered from the database.")
        return None, None
    # A degraded cache answers misses: nothing is stored under them.
    if None in current:
        return None, None
    stored = found.get(key)
    if not (isinstance(stored, StoredPage) and stored.versions == current):
        stored = None
    return Plan(key, current, user_id), stored


def _answer(request: HttpRequest, stored: StoredPage, plan: Plan) -> HttpResponse | None:
    # Django's check against the account's row, not the cache: a password changed
    # or an account closed while Redis dropped the version move still ends here.
    if not _signed_in_as(request, plan):
        return None
    response = HttpResponse(page_versions.with_token(request, stored.content))
    for name, value in stored.headers:
        response[name] = value
    if stored.lesson_viewed is not None:
        _record_lesson_viewed(request, stored.lesson_viewed)
    return response


def _record_lesson_viewed(request: HttpRequest, lesson_id: int) -> None:
    activity.record(request.user.pk, ActivityEvent.Kind.LESSON_VIEWED, page_id=lesson_id)


def _signed_in_as(request: HttpRequest, plan: Plan) -> bool:
    return request.user.is_authenticated and str(request.user.pk) == plan.user_id


def _keepable(request: HttpRequest, response: HttpResponse, plan: Plan) -> bool:
    storage = getattr(request, "_messages", None)
    return (
        not response.cookies
        and _signed_in_as(request, plan)
        and not getattr(storage, "_queued_messages", None)
    )


def _keep(request: HttpRequest, response: HttpResponse, plan: Plan, content: str) -> None:
    stored = StoredPage(
        versions=plan.versions,
        content=content,
        headers=tuple(response.items()),
        lesson_viewed=getattr(request, "learner_lesson_viewed", None),
    )
    try:
        cache.set(plan.key, stored, page_versions.FRAGMENT_SECONDS)
    except Exception:
        logger.warning("Cache unreachable: a learner's page is not remembered.")


def cached_for_learner(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer a signed-in learner's GET from their kept page, or keep what the view renders."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        plan, stored = _plan(request)
        if stored is not None:
            answer = _answer(request, stored, plan)
            if answer is not None:
                return answer
        request.learner_page_plan = plan
        try:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        finally:
            # An error page rendered after an exception writes the real token.
            request.learner_page_plan = None
        shown = response.status_code == 200 and getattr(request, "learner_fragment_rendered", False)
        lesson = getattr(request, "learner_lesson_viewed", None)
        if shown and lesson is not None:
            _record_lesson_viewed(request, lesson)
        if plan is None or response.streaming:
            return response
        content = response.content.decode(response.charset)
        if shown and _keepable(request, response, plan):
            _keep(request, response, plan, content)
        # Whatever happens to the page, its forms get this response's own token.
        if page_versions.CSRF_PLACEHOLDER in content:
            response.content = page_versions.with_token(request, content)
        return response

    return wrapped
