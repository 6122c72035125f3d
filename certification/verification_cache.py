"""What /verify/<code> shows about a certificate, kept in the shared cache.

A verification page is public, identical for every anonymous visitor and read
far more often than a certificate changes, so each code's public record (and,
for anonymous visitors, the whole page) is cached per language. Two things
keep it true:

- every change to a certificate gives its code a new generation: saves and
  deletions through the signals below, the services' `.update()` calls
  through `CertificateQuerySet.update`, again after commit. An entry keeps the
  generation read before its row was, and is served only while that is still
  the code's generation: a request that read the old row just before a
  revocation committed may store its entry after the change, and that entry is
  never served;
- expiry depends on the date, not on a change: an entry built while a dated
  certificate is valid goes stale at its expiry and is built again, expired.

Unknown codes are never cached: they stay the database's ordinary 404, and the
rate limit counts every lookup before the cache is read, so a cached page
teaches a visitor nothing faster. The cache is an optimisation only: when it
is unreachable every lookup reads the database.
"""

import datetime
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone, translation

from certification import openbadges
from certification.models import Award, Certificate
from certification.openbadges import frozen_text
from config.cache import of_this_release, write_invalidation

logger = logging.getLogger(__name__)

# Bounds what a change made without the ORM (a raw SQL fix) or a generation
# lost to a Redis failure can leave behind: a revoked certificate shown valid.
VERIFY_CACHE_SECONDS = 300


@dataclass
class Verification:
    """A certificate as the verification page and its JSON show it."""

    record: dict
    dates: dict[str, datetime.datetime | None]
    successor_code: str | None
    # When a valid certificate expires, the entry must be built again.
    stale_at: datetime.datetime | None
    # The anonymous visitor's page, with `placeholder` where the CSRF token goes.
    page: str | None = None
    placeholder: str | None = None
    # The code's generation when the row was read (see the module's docstring).
    generation: str | None = None

    def page_for(self, token: str) -> str:
        return self.page.replace(self.placeholder, token)


def new_placeholder() -> str:
    # Random per entry: a holder's name can never contain it by chance or design.
    return f"csrf{secrets.token_hex(16)}"


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def public_record(certificate: Certificate, last: Certificate | None = None) -> dict:
    """What anyone holding the code may learn, for the page and for machines; `last`:
    its last replacement, if the caller has it already."""
    context = certificate.context
    award = context.get("award", {})
    kind = frozen_text(award, "kind") or certificate.award.kind
    successor = certificate.superseded_by if certificate.superseded_by_id else None
    # Where a verifier is sent: the end of the replacements, which may have been revoked
    # or have expired since (then this page says so rather than « replaced »).
    last = last or certificate.last_replacement()
    return {
        "code": certificate.code,
        # The frozen wording's language (the award, criteria, competences, reason): a
        # page in another language marks it so that a screen reader reads it right.
        "language": context.get("language") or settings.LANGUAGE_CODE,
        "status": certificate.public_status,
        "holder": certificate.holder_name,
        # The name went once its retention was over (certification/retention.py).
        "holder_removed_at": _iso(certificate.holder_removed_at),
        "award": {
            "title": frozen_text(award, "title") or certificate.award.title,
            "kind": kind,
            "kind_label": str(Award.Kind(kind).label) if kind in Award.Kind.values else kind,
            "criteria": frozen_text(award, "criteria"),
        },
        "competences": [
            {
                "code": frozen_text(competence, "code"),
                "title": frozen_text(competence, "title"),
                "level": frozen_text(competence.get("level"), "title", "name", "code"),
            }
            for competence in context.get("competences", [])
        ],
        "issuer": openbadges.issuer_name(certificate),
        "signatory": frozen_text(context.get("signatory"), "name"),
        "issued_at": _iso(certificate.issued_at),
        # A copy re-issued for a corrected name keeps when the award was earned.
        "awarded_at": context.get("awarded_at") or _iso(certificate.issued_at),
        "expires_at": _iso(certificate.expires_at),
        "revoked_at": _iso(certificate.revoked_at),
        "reason": certificate.revocation_reason or None,
        "superseded_by": openbadges.verification_url(successor) if successor else None,
        "replaced_by": {
            "url": openbadges.verification_url(last),
            "status": last.public_status,
            "status_label": str(last.get_public_status_display()),
            "issued_at": _iso(last.issued_at),
        }
        if last
        else None,
        "sha256": certificate.pdf_sha256 or None,
        # Renderings of the same content before a regeneration: copies already shared.
        # A render of unchanged content gives the same bytes: that one is not « earlier ».
        "earlier_sha256": [
            sha for sha in certificate.earlier_pdf_sha256 if sha != certificate.pdf_sha256
        ],
        "verification_url": openbadges.verification_url(certificate),
    }


def build(certificate: Certificate) -> Verification:
    last = certificate.last_replacement()
    record = public_record(certificate, last)
    dated_and_valid = record["status"] == Certificate.Status.VALID and certificate.expires_at
    return Verification(
        record=record,
        dates={
            "issued_at": certificate.issued_at,
            "expires_at": certificate.expires_at,
            "revoked_at": certificate.revoked_at,
            "holder_removed_at": certificate.holder_removed_at,
            "replaced_at": last.issued_at if last else None,
            # When a revocation was withdrawn: the certificate issued again, not a later copy.
            "restored_at": certificate.superseded_by.issued_at
            if certificate.superseded_by_id
            else None,
            "awarded_at": certificate.awarded_at or certificate.issued_at,
        },
        successor_code=last.code if last else None,
        stale_at=min(
            (
                moment
                for moment in (
                    certificate.expires_at if dated_and_valid else None,
                    # What this page says of its replacement changes when that one expires.
                    last.expires_at if last and last.public_status == "valid" else None,
                )
                if moment
            ),
            default=None,
        ),
    )


def key(code: str, language: str) -> str:
    # Under this release: no deployment reads an entry pickled by the previous code.
    return of_this_release(f"certification:verify:{language}:{code}")


def generation_key(code: str) -> str:
    return f"certification:verify-generation:{code}"


def keys(code: str) -> list[str]:
    """What `cached` reads for `code` in the current language: its entry and its generation."""
    return [key(code, translation.get_language()), generation_key(code)]


def cached(code: str, found: dict | None = None) -> tuple[Verification | None, str | None]:
    """The remembered verification of `code` in the current language (None when
    missing, stale or from an older generation), and the code's generation.

    `found`: what the cache held under `keys(code)`, when already read with the
    rate limit's count (certification/verification_views.py).
    """
    entry_key, current_key = keys(code)
    if found is None:
        try:
            found = cache.get_many([entry_key, current_key])
        except Exception:
            found = {}
    generation, entry = found.get(current_key), found.get(entry_key)
    if not isinstance(entry, Verification) or entry.generation != generation:
        return None, generation
    if entry.stale_at is not None and entry.stale_at <= timezone.now():
        return None, generation
    return entry, generation


def lookup(code: str, found: dict | None = None) -> Verification | None:
    """The verification of `code`, from the cache or the database; None for an unknown code.

    `found`: see `cached`."""
    entry, generation = cached(code, found)
    if entry is not None:
        return entry
    certificate = (
        Certificate.objects.select_related("award", "superseded_by").filter(code=code).first()
    )
    if certificate is None:
        return None  # not remembered: an unknown code costs a lookup every time
    entry = build(certificate)
    entry.generation = generation
    remember(entry)
    return entry


def remember(entry: Verification) -> None:
    timeout = VERIFY_CACHE_SECONDS
    if entry.stale_at is not None:
        timeout = max(1, min(timeout, int((entry.stale_at - timezone.now()).total_seconds()) + 1))
    try:
        cache.set(key(entry.record["code"], translation.get_language()), entry, timeout)
    except Exception:
        logger.warning("Cache unreachable: the verification is not remembered.")


def forget(*codes: str) -> None:
    """Give `codes` a new generation, now and again once the transaction commits."""
    if not codes:
        return

    def move_on() -> None:
        # Outlives the entries, so that no entry outlives the generation it was built in.
        # Tried even in the cache's back-off window; a failure is logged as an error.
        generations = {generation_key(code): secrets.token_hex(8) for code in codes}
        write_invalidation(cache, generations, VERIFY_CACHE_SECONDS * 2)

    move_on()
    transaction.on_commit(move_on)


def predecessors_of(codes: list[str]) -> list[str]:
    """The codes of the certificates these ones replaced, and of those before them."""
    found: list[str] = []
    seen = set(codes)
    frontier = list(codes)
    while frontier:
        earlier = list(
            Certificate.objects.filter(superseded_by__code__in=frontier).values_list(
                "code", flat=True
            )
        )
        frontier = [code for code in earlier if code not in seen]
        seen.update(frontier)
        found.extend(frontier)
    return found


@receiver([post_save, post_delete], sender=Certificate, dispatch_uid="certification.verify_cache")
def forget_changed_certificate(sender, instance: Certificate, **kwargs) -> None:
    # A certificate just created replaces nothing yet (a re-issue links the old one to
    # it afterwards, through update()): no query for predecessors on every issue.
    earlier = [] if kwargs.get("created") else predecessors_of([instance.code])
    forget(instance.code, *earlier)
