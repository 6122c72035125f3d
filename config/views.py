"""Site-wide views that belong to no app: health, legal pages, error pages."""

import sys
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.middleware import NullCharacter

BROKER_TIMEOUT_SECONDS = 1.5
_broker_probe = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz-broker")


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return "down"
    return "ok"


def _ping_broker(url: str) -> None:
    from kombu import Connection

    with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)


def _broker_status() -> str:
    url = settings.CELERY_BROKER_URL
    if not url:
        return "not configured"
    # The probe runs in a thread so that a broker that accepts the connection and
    # then stalls still cannot hold the request past the deadline.
    future = _broker_probe.submit(_ping_broker, url)
    try:
        future.result(timeout=BROKER_TIMEOUT_SECONDS + 0.3)
    except (FutureTimeout, Exception):
        return "down"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    status = {"database": _database_status(), "broker": _broker_status()}
    return JsonResponse(status, status=200 if status["database"] == "ok" else 503)


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/accessibility.html")


def legal_notice(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/legal_notice.html")


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/privacy.html")


def bench_baseline(request: HttpRequest) -> HttpResponse:
    """The benchmark's baseline: the middleware stack and nothing else (no query, no template)."""
    return HttpResponse("ok", content_type="text/plain")


# Read by machines: the API, the verification JSON, the Open Badges documents.
MACHINE_PATHS = ("/api/", "/openbadges/", "/.well-known/")


def _for_machines(request: HttpRequest) -> bool:
    return (
        request.path.startswith(MACHINE_PATHS)
        or request.path.endswith(".json")
        or request.GET.get("format") == "json"
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _for_machines(request):
        # Machines read the API and the verification JSON: JSON, as the API's
        # schema documents for 400.
        return JsonResponse({"detail": "Malformed request."}, status=400)
    # Django's own renders without the request: the page's menu needs it. The
    # same handler answers too many fields or too big a body: only a NUL is
    # blamed on characters.
    return render(
        request,
        "400.html",
        {"bad_characters": isinstance(exception, NullCharacter)},
        status=400,
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _for_machines(request):
        # The same answer for every unknown code or key: nothing about which exist.
        response = JsonResponse({"detail": "Not found."}, status=404)
        # Verifiers in a browser, on other origins, must be able to read it.
        response["Access-Control-Allow-Origin"] = "*"
        return response
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its `except` block, so the exception is at hand. A
    # lost database is a temporary outage (503, retry later), not a bug (500).
    # Neither page uses context processors: they could hit the dead database again.
    exception = sys.exc_info()[1]
    if isinstance(exception, (OperationalError, InterfaceError)):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponse(loader.get_template("500.html").render(), status=500)
