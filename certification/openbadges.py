"""Open Badges 3.0: each certificate as an OpenBadgeCredential signed as a VC-JWT.

Everything a credential states comes from the certificate's frozen context, so
that a credential downloaded today and one downloaded next year say the same
thing; only the status endpoint reports what has happened since.
"""

import hashlib
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.urls import reverse
from joserfc import jwt
from joserfc.jwk import ECKey

from certification import keys
from certification.models import Award, Certificate

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
# 1EdTech's own revocation list method, named by OB 3.0 for credentialStatus.
STATUS_TYPE = "1EdTechRevocationList"
MEDIA_TYPE = "application/jwt"

# OB 3.0's "Certification" is a credential a certifying body awards: the platform only
# attests the competences of the certification's framework, so it issues a certificate.
ACHIEVEMENT_TYPE_OF_KIND = {
    Award.Kind.MODULE: "Badge",
    Award.Kind.BLOCK: "Certificate",
    Award.Kind.CERTIFICATION: "Certificate",
    Award.Kind.AWARENESS: "Badge",
    Award.Kind.END_OF_TRAINING: "CertificateOfCompletion",
    Award.Kind.COMPLETION: "CertificateOfCompletion",
}

# Namespace for the urn:uuid identifiers we derive: stable across downloads,
# never guessable back to a database id or an address.
_NAMESPACE = uuid.UUID("6f1c3a52-2c1e-4f0e-9a57-5f4d0b7f3e21")


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def issuer_id() -> str:
    return absolute(reverse("certification:openbadges_issuer"))


def jwks_url() -> str:
    return absolute(reverse("certification:openbadges_jwks"))


def key_url(kid: str) -> str:
    """OB 3.0 wants `kid` to be a URI that dereferences to the JWK itself."""
    return absolute(reverse("certification:openbadges_key", kwargs={"kid": kid}))


def verification_url(certificate: Certificate) -> str:
    return absolute(reverse("certification:verify", kwargs={"code": certificate.code}))


def status_url(certificate: Certificate) -> str:
    return absolute(reverse("certification:openbadges_status", kwargs={"code": certificate.code}))


def timestamp(moment: datetime) -> str:
    # Whole seconds, so that the JWT's nbf/exp equal validFrom/validUntil exactly.
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def frozen_text(value, *names: str) -> str:
    """A frozen field may be a plain string or a small dict: take the first name present."""
    if isinstance(value, dict):
        for name in names:
            if value.get(name):
                return str(value[name])
        return ""
    return "" if value is None else str(value)


def issuer_name(certificate: Certificate | None = None) -> str:
    if certificate is not None:
        provider = frozen_text(certificate.context.get("provider"), "name", "title")
        if provider:
            return provider
    return settings.CAMPUS_PROVIDER_NAME


def issuer_profile() -> dict:
    return {
        "@context": CONTEXT,
        "id": issuer_id(),
        "type": ["Profile"],
        "name": settings.CAMPUS_PROVIDER_NAME,
        "url": absolute("/"),
    }


def jwks() -> dict:
    return {"keys": [{**jwk, "kid": key_url(jwk["kid"])} for jwk in keys.published_keys()]}


def published_key(kid: str) -> dict | None:
    for jwk in keys.published_keys():
        if jwk["kid"] == kid:
            return {**jwk, "kid": key_url(kid)}
    return None


def hashed_email(email: str, salt: str) -> str:
    """OB 3.0 IdentityObject hash: "sha256$" + hex(sha256(email + salt))."""
    digest = hashlib.sha256(f"{email.strip().lower()}{salt}".encode()).hexdigest()
    return f"sha256${digest}"


def _salt(certificate: Certificate) -> str:
    # One salt per certificate, stable across downloads: two credentials of the
    # same person do not share a hash that links them without the address.
    return hashlib.sha256(f"openbadges-salt:{certificate.code}".encode()).hexdigest()[:32]


def _holder_email(certificate: Certificate) -> str:
    """The holder's address, if they still have an account: an erased one has none."""
    learner = certificate.learner if certificate.learner_id else None
    if learner is None or getattr(learner, "erased_at", None):
        return ""
    return learner.email


def _framework_of(certificate: Certificate, competence: dict) -> dict:
    """{code, version, title} of the framework a competence belongs to, as frozen."""
    candidate = competence.get("framework") or certificate.context.get("framework")
    if isinstance(candidate, str):
        return {"code": candidate, "version": "", "title": candidate}
    if isinstance(candidate, dict):
        return {
            "code": frozen_text(candidate, "code"),
            "version": frozen_text(candidate, "version"),
            "title": frozen_text(candidate, "title", "name", "code"),
        }
    # Older contexts without the framework: the award's target tells it.
    award = certificate.award
    framework = award.framework or (award.block.framework if award.block_id else None)
    if framework is None:
        return {"code": "", "version": "", "title": ""}
    return {"code": framework.code, "version": framework.version, "title": framework.title}


def _framework_url(framework: dict) -> str:
    if framework["code"] and framework["version"]:
        path = reverse(
            "courses:framework_version",
            kwargs={"code": framework["code"], "version": framework["version"]},
        )
    elif framework["code"]:
        path = reverse("courses:framework", kwargs={"code": framework["code"]})
    else:
        path = reverse("courses:catalogue")
    return absolute(path)


def _alignment(certificate: Certificate, competence: dict) -> dict:
    framework = _framework_of(certificate, competence)
    alignment = {
        "type": ["Alignment"],
        "targetName": frozen_text(competence, "title", "code"),
        "targetCode": frozen_text(competence, "code"),
        "targetUrl": _framework_url(framework),
        # ceasn:Competency is the schema's name for a competence in a framework;
        # ceterms:Competency is not among the values OB 3.0 allows.
        "targetType": "ceasn:Competency",
    }
    if framework["title"]:
        alignment["targetFramework"] = framework["title"]
    return alignment


def _quoted(code: str, title: str) -> str:
    return f"{code} «\u00a0{title}\u00a0»" if code else f"«\u00a0{title}\u00a0»"


def certification_statement(context: dict, kind: str) -> str:
    """What a framework or block attestation attests, in the French of the PDF (the
    credential is `inLanguage: fr`): never that the certification was awarded, and by
    whom it is, when the frozen framework names its certifier. Empty for other kinds."""
    if kind not in (Award.Kind.CERTIFICATION, Award.Kind.BLOCK):
        return ""
    framework = context.get("framework") if isinstance(context.get("framework"), dict) else {}
    framework_name = _quoted(frozen_text(framework, "code"), frozen_text(framework, "title"))
    if kind == Award.Kind.CERTIFICATION:
        text = (
            "Atteste que le ou la titulaire a validé l'ensemble des compétences du "
            f"référentiel {framework_name}"
        )
    else:
        target = context.get("target") or {}
        block_name = _quoted(frozen_text(target, "code"), frozen_text(target, "title"))
        text = (
            "Atteste que le ou la titulaire a atteint le niveau visé dans chaque compétence "
            f"du bloc {block_name} du référentiel {framework_name}, en vue de la certification"
        )
    registry = frozen_text(framework, "registry")
    certifier = frozen_text(framework, "awarding_body")
    if registry or certifier:
        text += ", certification" if kind == Award.Kind.CERTIFICATION else ""
        text += f" enregistrée au {registry}" if registry else ""
        text += f", délivrée par {certifier}" if certifier else ""
    return text + ". Émis par un organisme de formation, ce badge ne vaut pas certification."


def credential(certificate: Certificate) -> dict:
    """The unsigned OpenBadgeCredential for `certificate`."""
    context = certificate.context
    award = context.get("award", {})
    competences = context.get("competences", [])
    kind = frozen_text(award, "kind") or certificate.award.kind
    title = frozen_text(award, "title") or certificate.award.title
    criteria = frozen_text(award, "criteria") or certificate.award.criteria
    holder_name = certificate.holder_name

    identifiers = []
    if holder_name:
        identifiers.append(
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": holder_name,
            }
        )
    email = _holder_email(certificate)
    if email:
        salt = _salt(certificate)
        identifiers.append(
            {
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "hashed": True,
                "identityHash": hashed_email(email, salt),
                "salt": salt,
            }
        )

    achievement = {
        # The site's address in the name: award 1 of another deployment is another achievement.
        "id": f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{issuer_id()}/award/{certificate.award_id}')}",
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPE_OF_KIND.get(kind, "Achievement"),
        "name": title,
        "description": certification_statement(context, kind)
        or frozen_text(award, "description")
        or criteria
        or title,
        "criteria": {"narrative": criteria or title},
        "inLanguage": "fr",
        "alignment": [_alignment(certificate, competence) for competence in competences],
    }
    subject = {
        # A pseudonym per credential: `sub` must name the subject, and an address
        # in clear would leak wherever the badge is shown.
        "id": f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'subject:{certificate.code}')}",
        "type": ["AchievementSubject"],
        "achievement": achievement,
        "identifier": identifiers,
    }
    results = [
        {
            "type": ["Result"],
            "value": frozen_text(competence.get("level"), "title", "name", "code"),
            "alignment": [_alignment(certificate, competence)],
        }
        for competence in competences
        if competence.get("level")
    ]
    if results:
        subject["result"] = results

    issued = timestamp(certificate.issued_at)
    # A copy re-issued for a corrected name keeps the date the award was earned.
    awarded_at = certificate.context.get("awarded_at")
    awarded = timestamp(datetime.fromisoformat(awarded_at)) if awarded_at else issued
    document = {
        "@context": CONTEXT,
        "id": verification_url(certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": title,
        "issuer": {"id": issuer_id(), "type": ["Profile"], "name": issuer_name(certificate)},
        "validFrom": issued,
        "awardedDate": awarded,
        "credentialSubject": subject,
        "credentialStatus": {"id": status_url(certificate), "type": STATUS_TYPE},
    }
    if certificate.expires_at:
        document["validUntil"] = timestamp(certificate.expires_at)
    return document


def sign(document: dict, key: ECKey) -> str:
    """Sign `document` as a VC-JWT per OB 3.0: the payload is the credential itself,
    with the claims iss, jti, sub, nbf (and exp) beside its properties. (A `vc`
    claim wrapping it is VC data model 1.1's layout, for issuanceDate credentials.)"""
    claims = {
        **document,
        "iss": document["issuer"]["id"],
        "jti": document["id"],
        "sub": document["credentialSubject"]["id"],
        "nbf": int(datetime.fromisoformat(document["validFrom"]).timestamp()),
    }
    if "validUntil" in document:
        claims["exp"] = int(datetime.fromisoformat(document["validUntil"]).timestamp())
    header = {"alg": keys.ALGORITHM, "kid": key_url(keys.key_id(key)), "typ": "JWT"}
    return jwt.encode(header, claims, key, algorithms=[keys.ALGORITHM])


def signed_credential(certificate: Certificate) -> str:
    """The compact JWS of `certificate`; keys.IssuerKeyMissing in production without a key."""
    return sign(credential(certificate), keys.signing_key())


def revocation_list(certificate: Certificate) -> dict:
    """The 1EdTechRevocationList for one credential: empty while it stands.

    Supersession counts as revocation for a verifier (the successor is the one
    to trust); expiry needs no entry, validUntil and exp already say it, but we
    repeat the public status for readers that do not compute it.
    """
    revoked = []
    status = certificate.public_status
    if status == Certificate.Status.REVOKED:
        revoked.append(
            {
                "id": verification_url(certificate),
                "revocationReason": certificate.revocation_reason,
                "revokedAt": timestamp(certificate.revoked_at) if certificate.revoked_at else None,
            }
        )
    elif status == Certificate.Status.SUPERSEDED:
        successor = certificate.superseded_by
        revoked.append(
            {
                "id": verification_url(certificate),
                "revocationReason": "Superseded",
                "supersededBy": verification_url(successor) if successor else None,
            }
        )
    return {
        "id": status_url(certificate),
        "type": STATUS_TYPE,
        "issuer": issuer_id(),
        "revokedCredentials": revoked,
        "status": status,
        "validUntil": timestamp(certificate.expires_at) if certificate.expires_at else None,
    }
