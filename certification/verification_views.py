"""Public verification of certificates, and the Open Badges 3.0 endpoints.

Anyone holding a code may check a certificate; nobody may learn whether a code
exists without holding it (an unknown code is the site's ordinary 404) nor
sweep codes quickly (lookups are rate-limited per client address).
"""

import hashlib
import hmac
import ipaddress
import logging
import time
from collections.abc import Callable
from functools import partial, wraps

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from certification import keys, openbadges, verification_cache
from certification.models import Certificate, normalise_code
from certification.views import certificates_for

logger = logging.getLogger(__name__)

PDF_MAX_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
RATE_WINDOW_SECONDS = 60
# Unknown codes asked of the Open Badges status endpoint, counted at the people's rate.
STATUS_MISSES = "status-miss"


# --- Rate limit ------------------------------------------------------------------------


def client_ip(request: HttpRequest) -> str:
    """The visitor's address; behind N trusted proxies, the Nth hop from the right."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def rate_limited_as(address: str) -> str:
    """Whom a lookup is counted against: the address, or for IPv6 its /64 network,
    which one subscriber holds whole (2^64 addresses would be as many counters)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def _counter(request: HttpRequest, bucket: str) -> tuple[str, int]:
    """The client's counter key in `bucket` for this minute, and the seconds left in it."""
    now = time.time()
    window = int(now // RATE_WINDOW_SECONDS)
    address = hashlib.sha256(rate_limited_as(client_ip(request)).encode()).hexdigest()[:32]
    return (
        f"{bucket}-lookups:{address}:{window}",
        int(RATE_WINDOW_SECONDS - now % RATE_WINDOW_SECONDS) + 1,
    )


def _misses_spent(request: HttpRequest) -> tuple[bool, int]:
    """Whether the client missed as many status lookups this minute as a person may
    look codes up (read, not counted)."""
    key, retry_after = _counter(request, STATUS_MISSES)
    try:
        spent = (cache.get(key) or 0) >= settings.VERIFY_LOOKUPS_PER_MINUTE
    except Exception:
        spent = False  # a cache outage must not take the status down
    return spent, retry_after


def _lookup_allowed(
    request: HttpRequest, reads: list[str], bucket: str = "verify"
) -> tuple[bool, int, dict | None]:
    """Count one lookup for the client in `bucket`, then read the cache's `reads`:
    (allowed, seconds until the window resets, what was read or None if not read)."""
    key, retry_after = _counter(request, bucket)
    found = None
    try:
        if counter := getattr(cache, "count_and_get_many", None):
            # Redis (config/cache.py): the same add and incr, and the reads, in one round trip.
            count, found = counter(key, RATE_WINDOW_SECONDS * 2, reads)
        else:
            # add() then incr() is atomic in Redis and under the local-memory lock:
            # concurrent workers cannot lose a count.
            cache.add(key, 0, timeout=RATE_WINDOW_SECONDS * 2)
            count = cache.incr(key)
        if count is None:
            raise ConnectionError("cache unreachable")
    except Exception:
        # A cache outage must not take verification down with it.
        logger.warning("Verification rate limit skipped: cache unavailable.", exc_info=True)
        return True, retry_after, found
    limit = (
        settings.OPENBADGES_STATUS_LOOKUPS_PER_MINUTE
        if bucket == "status"
        else settings.VERIFY_LOOKUPS_PER_MINUTE
    )
    return count <= limit, retry_after, found


def _wants_json(request: HttpRequest, kwargs: dict) -> bool:
    return (
        kwargs.get("as_json", False)
        or request.GET.get("format") == "json"
        or request.path.startswith("/openbadges/")
    )


def rate_limited(
    view=None, *, reads: Callable[[str], list[str]] | None = None, bucket: str = "verify"
):
    """Count each call as a lookup; past the limit answer 429 instead of looking.

    With `reads`, the cache keys it names for the code are read in the count's
    round trip and handed to the view as `prefetched` (None when not read).
    `bucket` "status" counts Open Badges status checks apart, with their own
    limit: verifiers check credentials by the batch, people type codes one by one.
    """
    if view is None:
        return partial(rate_limited, reads=reads, bucket=bucket)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        keys = reads(kwargs["code"]) if reads else []
        allowed, retry_after, found = _lookup_allowed(request, keys, bucket)
        if allowed:
            if reads:
                kwargs["prefetched"] = found
            return view(request, *args, **kwargs)
        return _too_many(request, kwargs, retry_after)

    return wrapper


def _too_many(request: HttpRequest, kwargs: dict, retry_after: int) -> HttpResponse:
    if _wants_json(request, kwargs):
        response = JsonResponse({"error": "rate_limited", "retry_after": retry_after})
        response.status_code = 429
        # Verifiers in a browser, on other origins, must be able to read it.
        response["Access-Control-Allow-Origin"] = "*"
    else:
        response = render(
            request,
            "certification/verify_rate_limited.html",
            {"retry_after": retry_after, "limit": settings.VERIFY_LOOKUPS_PER_MINUTE},
            status=429,
        )
    response["Retry-After"] = str(retry_after)
    response["X-Robots-Tag"] = "noindex"
    return response


# --- Verification ----------------------------------------------------------------------


# 160 bits in base 32 (certification.models.new_verification_code).
CODE_LENGTH = 32
CODE_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


class VerifyCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        # Room for the verification link pasted whole, which is read too.
        max_length=300,
        help_text=_(
            "As printed under the QR code, or its verification link; case and spaces do not matter."
        ),
    )

    def clean_code(self) -> str:
        typed = self.cleaned_data["code"]
        # The verification link pasted whole (from a mail, a CV): its last segment.
        if "/verify/" in typed:
            path = typed.split("/verify/", 1)[1].split("?")[0].split("#")[0]
            typed = path.strip("/").removesuffix(".json")
        code = normalise_code(typed)
        if not code:
            raise forms.ValidationError(_("Type the code printed on the certificate."))
        # Every code has this shape (new_verification_code): a typo is said here,
        # with what was typed kept, rather than met by the page of an unknown code.
        compact = code.replace("-", "")
        if len(compact) == CODE_LENGTH and not set(compact) <= CODE_ALPHABET:
            raise forms.ValidationError(
                _(
                    "A code holds letters A to Z and digits 2 to 7 only; this one holds "
                    "%(others)s. Check it against the certificate."
                )
                % {"others": " ".join(sorted(set(compact) - CODE_ALPHABET))}
            )
        if len(compact) != CODE_LENGTH:
            raise forms.ValidationError(
                _(
                    "A code has %(length)s characters, letters A to Z and digits 2 to 7; "
                    "this one has %(count)s. Check it against the certificate."
                )
                % {"length": CODE_LENGTH, "count": len(compact)}
            )
        return code


class PdfCheckForm(forms.Form):
    pdf = forms.FileField(
        label=_("PDF file of the certificate"),
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def clean_pdf(self):
        upload = self.cleaned_data["pdf"]
        if upload.size > PDF_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB."), code="too_large")
        head = upload.read(len(PDF_MAGIC))
        upload.seek(0)
        if head != PDF_MAGIC:
            raise forms.ValidationError(_("This file is not a PDF."), code="not_pdf")
        return upload


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def _noindex(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    """Type a code: lookups happen on the certificate's own page, which is rate-limited."""
    form = VerifyCodeForm(request.GET if "code" in request.GET else None)
    if form.is_valid():
        return redirect("certification:verify", code=form.cleaned_data["code"])
    return _noindex(render(request, "certification/verify_form.html", {"form": form}))


def _upload_too_large(request: HttpRequest) -> bool:
    # Room for the multipart envelope around a file of the maximum size.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:  # a length that is no number: nothing to trust it with
        return True
    return length > PDF_MAX_BYTES + 64 * 1024


def _csrf_rejection(request: HttpRequest) -> HttpResponse | None:
    return CsrfViewMiddleware(lambda request: None).process_view(request, None, (), {})


def _check_pdf(
    request: HttpRequest, issued_sha256: str | None, earlier: list[str]
) -> tuple[str, PdfCheckForm]:
    """Compare an uploaded file with the SHA-256 of the PDF we issued, or of an earlier
    rendering of the same content (before a regeneration)."""
    if not issued_sha256 and not earlier:
        return "unavailable", PdfCheckForm()
    form = PdfCheckForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = form.errors.as_data().get("pdf", [])
        return (errors[0].code if errors and errors[0].code else "missing"), form
    uploaded = _sha256(form.cleaned_data["pdf"])
    if issued_sha256 and hmac.compare_digest(uploaded, issued_sha256):
        return "authentic", PdfCheckForm()
    if any(hmac.compare_digest(uploaded, sha) for sha in earlier):
        return "authentic_earlier", PdfCheckForm()
    return "mismatch", PdfCheckForm()


def _same_for_everyone(request: HttpRequest) -> bool:
    """Whether this visitor sees the shared page: anonymous, plain GET, no pending message."""
    return (
        request.method in ("GET", "HEAD")
        and not request.GET
        and not request.user.is_authenticated
        and not len(get_messages(request))
    )


# CSRF is checked in the view, after the size: the middleware would first parse
# (and spool to disk) an oversized upload that we can refuse unread.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited(reads=verification_cache.keys)
def verify(
    request: HttpRequest, code: str, as_json: bool = False, prefetched: dict | None = None
) -> HttpResponse:
    canonical = normalise_code(code)
    if not canonical:  # only separators: no code to look up, nor to redirect to
        raise Http404
    if canonical != code:
        target = reverse(
            "certification:verify_json" if as_json else "certification:verify",
            kwargs={"code": canonical},
        )
        query = request.GET.urlencode()
        response = redirect(f"{target}?{query}" if query else target)
        if as_json:
            response["Access-Control-Allow-Origin"] = "*"
        return response
    verification = verification_cache.lookup(code, prefetched)
    if verification is None:
        # The site's 404, byte for byte: it reveals nothing, and leads back to the form.
        raise Http404
    record = verification.record
    if as_json or request.GET.get("format") == "json":
        response = JsonResponse(record, json_dumps_params={"ensure_ascii": False})
        response["Access-Control-Allow-Origin"] = "*"
        return _noindex(response)

    shared = _same_for_everyone(request)
    if shared and verification.page is not None:
        # The visitor's own CSRF token goes where the shared page left room for it.
        return _noindex(HttpResponse(verification.page_for(get_token(request))))
    pdf_check, form = None, PdfCheckForm()
    if request.method == "POST":
        if _upload_too_large(request):
            pdf_check = "too_large"
        elif rejection := _csrf_rejection(request):
            return rejection
        else:
            pdf_check, form = _check_pdf(
                request, record["sha256"], record.get("earlier_sha256", [])
            )
    context = {
        "record": record,
        "dates": verification.dates,
        "successor_code": verification.successor_code,
        "form": form,
        "pdf_check": pdf_check,
        "pdf_max_mb": PDF_MAX_BYTES // (1024 * 1024),
    }
    if not shared:
        return _noindex(render(request, "certification/verify.html", context))
    placeholder = verification_cache.new_placeholder()
    page = render_to_string(
        "certification/verify.html", {**context, "csrf_token": placeholder}, request
    )
    verification.page, verification.placeholder = page, placeholder
    verification_cache.remember(verification)
    return _noindex(HttpResponse(verification.page_for(get_token(request))))


# --- Open Badges 3.0 -------------------------------------------------------------------


def _public_json(data: dict, content_type: str = "application/json") -> JsonResponse:
    response = JsonResponse(data, content_type=content_type, json_dumps_params={"indent": 2})
    # Wallets and verifiers fetch these from the browser, on other origins.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=300"
    return response


@login_required
def openbadges_credential(request: HttpRequest, pk: int) -> HttpResponse:
    certificates = Certificate.objects.select_related(
        "award__framework", "award__block__framework", "learner"
    )
    certificate = get_object_or_404(certificates_for(request.user, certificates), pk=pk)
    if certificate.status != Certificate.Status.VALID or certificate.holder_removed_at:
        # Signed on each download, a badge would be a fresh proof of what the
        # platform withdrew: many wallets never read its status.
        return render(
            request,
            "certification/openbadges_withdrawn.html",
            {"certificate": certificate, "successor": certificate.current_successor()},
            status=410,
        )
    try:
        token = openbadges.signed_credential(certificate)
    except keys.IssuerKeyMissing:
        return render(request, "certification/verify_openbadges_unavailable.html", status=503)
    response = HttpResponse(token, content_type=openbadges.MEDIA_TYPE)
    filename = f"{slugify(certificate.context.get('award', {}).get('title', '')) or 'badge'}.jwt"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
def openbadges_issuer(request: HttpRequest) -> JsonResponse:
    return _public_json(openbadges.issuer_profile(), "application/ld+json")


@require_safe
def openbadges_jwks(request: HttpRequest) -> JsonResponse:
    return _public_json(openbadges.jwks(), "application/jwk-set+json")


@require_safe
def openbadges_key(request: HttpRequest, kid: str) -> JsonResponse:
    jwk = openbadges.published_key(kid)
    if jwk is None:
        raise Http404
    return _public_json(jwk, "application/jwk+json")


@require_safe
@rate_limited(bucket="status")
def openbadges_status(request: HttpRequest, code: str) -> JsonResponse:
    # Verifiers check known codes by the batch; unknown ones are a person's typo or a
    # sweep. Misses get the people's budget, and once it is spent every answer is 429,
    # hits included: 200 against 404 or 429 would still tell codes apart.
    spent, retry_after = _misses_spent(request)
    if spent:
        return _too_many(request, {}, retry_after)
    certificate = (
        Certificate.objects.select_related("superseded_by").filter(code=normalise_code(code))
    ).first()
    if certificate is None:
        _lookup_allowed(request, [], STATUS_MISSES)
        raise Http404
    response = _public_json(openbadges.revocation_list(certificate))
    # A revocation must reach verifiers at once: no caching of the status.
    response["Cache-Control"] = "no-cache"
    return _noindex(response)
