"""Open Badges 3.0: the signed credential, who may download it, and how anyone verifies it."""

import base64
import hashlib
import json
import os
import stat
from datetime import datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError
from joserfc.jwk import KeySet

from certification import keys, openbadges
from certification.models import Certificate
from tests.certification.verification_data import (
    make_award,
    make_certificate,
    revoke,
    supersede,
)

SITE = "https://campus.example.org"
SCHEMA = json.loads(
    (Path(__file__).parent / "openbadges-3.0" / "achievementcredential.schema.json").read_text()
)


@pytest.fixture(autouse=True)
def issuer_key(settings, tmp_path):
    """Each test signs with its own key, in its own folder, never var/keys/."""
    settings.OPENBADGES_KEY_PATH = tmp_path / "keys" / "openbadges-issuer.jwk"
    settings.SITE_URL = SITE
    cache.clear()
    keys.generate()
    yield settings.OPENBADGES_KEY_PATH
    cache.clear()


def credential_url(certificate) -> str:
    return reverse("certification:openbadges_credential", kwargs={"pk": certificate.pk})


def download(client, certificate, user) -> str:
    client.force_login(user)
    response = client.get(credential_url(certificate))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jwt"
    assert response["Content-Disposition"].startswith("attachment;")
    return response.content.decode()


def published_keys(client) -> KeySet:
    """The key set as any verifier gets it: through the public JWKS address."""
    response = client.get(reverse("certification:openbadges_jwks"))
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    return KeySet.import_key_set(response.json())


def segments(token: str) -> list[str]:
    return token.split(".")


def decode_segment(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def flip(segment: str, at: int) -> str:
    """Change one base64url character (in the middle, never a padding bit)."""
    replacement = "B" if segment[at] != "B" else "C"
    return segment[:at] + replacement + segment[at + 1 :]


# --- Who may download -------------------------------------------------------------------


def test_the_holder_downloads_their_signed_credential(client, camille):
    certificate = make_certificate(camille)
    token = download(client, certificate, camille)
    assert len(segments(token)) == 3


def test_staff_download_any_credential(client, camille, staff):
    certificate = make_certificate(camille)
    assert download(client, certificate, staff)


def test_another_learner_gets_a_404_for_someone_elses_credential(client, camille, dominique):
    certificate = make_certificate(camille)
    client.force_login(dominique)
    assert client.get(credential_url(certificate)).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, camille):
    certificate = make_certificate(camille)
    response = client.get(credential_url(certificate))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- What it says -----------------------------------------------------------------------


def test_a_revoked_certificate_gives_no_freshly_signed_badge(client, camille, staff):
    certificate = make_certificate(camille)
    revoke(certificate)
    for person in (camille, staff):
        client.force_login(person)
        response = client.get(credential_url(certificate))
        assert response.status_code == 410
        assert response["Content-Type"].startswith("text/html")
        assert 'data-testid="openbadge-revoked"' in response.content.decode()


def test_a_superseded_certificate_points_to_the_badge_of_its_successor(client, camille):
    certificate = make_certificate(camille)
    successor = supersede(certificate)
    client.force_login(camille)
    response = client.get(credential_url(certificate))
    assert response.status_code == 410
    assert credential_url(successor) in response.content.decode()
    assert len(segments(download(client, successor, camille))) == 3


def test_a_superseded_certificate_whose_successor_was_revoked_is_not_called_revoked(
    client, camille
):
    certificate = make_certificate(camille)
    revoke(supersede(certificate))
    client.force_login(camille)

    page = client.get(credential_url(certificate)).content.decode()

    assert 'data-testid="openbadge-superseded"' in page
    assert 'data-testid="openbadge-revoked"' not in page


@pytest.mark.parametrize(
    "name", ["openbadges_issuer", "openbadges_jwks", "well_known_jwks", "openbadges_status"]
)
def test_the_public_open_badges_documents_answer_head_as_link_checkers_send_it(
    client, camille, name
):
    kwargs = {"code": make_certificate(camille).code} if name == "openbadges_status" else {}
    response = client.head(reverse(f"certification:{name}", kwargs=kwargs))
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"


def test_a_certificate_superseded_twice_points_to_the_badge_that_stands(client, camille):
    first = make_certificate(camille)
    second = supersede(first)
    third = supersede(second)
    client.force_login(camille)
    page = client.get(credential_url(first)).content.decode()
    assert credential_url(third) in page
    assert credential_url(second) not in page


def test_the_credential_validates_against_the_ob_3_0_schema(client, camille):
    certificate = make_certificate(camille, expires_at=timezone.now() + timedelta(days=365))
    # The payload is the credential itself (OB 3.0 « JWT Payload Format »), no `vc` claim.
    vc = decode_segment(segments(download(client, certificate, camille))[1])
    assert "vc" not in vc
    validator_class = jsonschema.validators.validator_for(SCHEMA)
    validator_class.check_schema(SCHEMA)
    validator_class(SCHEMA).validate(vc)
    # Formats the validator does not check without optional packages.
    assert datetime.fromisoformat(vc["validFrom"]) <= datetime.fromisoformat(vc["validUntil"])


def test_a_certificate_issued_by_the_service_gives_a_schema_valid_credential(
    client, camille, setting
):
    from certification import services

    for award in (setting.certification_award, setting.module_award, setting.completion_award):
        certificate, _ = services.issue(camille, award, render=False)
        vc = openbadges.credential(certificate)
        jsonschema.validators.validator_for(SCHEMA)(SCHEMA).validate(vc)
        assert vc["name"] == award.title


def test_the_credential_states_issuer_achievement_competences_and_status(client, camille):
    certificate = make_certificate(camille, expires_at=timezone.now() + timedelta(days=365))
    vc = openbadges.credential(certificate)
    verify = reverse("certification:verify", kwargs={"code": certificate.code})
    assert vc["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["id"] == f"{SITE}{verify}"
    assert vc["issuer"] == {
        "id": f"{SITE}/openbadges/issuer",
        "type": ["Profile"],
        "name": "Campus Tiers-Lieux",
    }
    assert vc["validUntil"] == openbadges.timestamp(certificate.expires_at)
    achievement = vc["credentialSubject"]["achievement"]
    # The platform attests competences; only the certifier awards the certification.
    assert achievement["achievementType"] == "Certificate"
    assert achievement["criteria"]["narrative"].startswith("Atteindre le niveau cible")
    framework_page = reverse(
        "courses:framework_version", kwargs={"code": "RS5142", "version": "2025"}
    )
    assert [a["targetCode"] for a in achievement["alignment"]] == ["B1.1", "B1.2", "B2.1", "B2.2"]
    assert {a["targetUrl"] for a in achievement["alignment"]} == {f"{SITE}{framework_page}"}
    assert {a["targetFramework"] for a in achievement["alignment"]} == {"Référentiel RS5142"}
    assert {r["value"] for r in vc["credentialSubject"]["result"]} == {"Appliquer"}
    assert vc["credentialStatus"] == {
        "id": f"{SITE}/openbadges/status/{certificate.code}",
        "type": "1EdTechRevocationList",
    }


def test_a_framework_attestations_credential_names_the_certifier_and_claims_no_certification(
    camille,
):
    certificate = make_certificate(camille)
    context = certificate.context
    context["framework"].update(
        {"awarding_body": "Coopérative des Tiers-Lieux", "registry": "Répertoire spécifique"}
    )
    Certificate.objects.filter(pk=certificate.pk).update(context=context)
    certificate.refresh_from_db()
    vc = openbadges.credential(certificate)
    jsonschema.validators.validator_for(SCHEMA)(SCHEMA).validate(vc)
    achievement = vc["credentialSubject"]["achievement"]
    assert achievement["achievementType"] != "Certification"
    description = " ".join(achievement["description"].split())
    assert "a validé l'ensemble des compétences du référentiel RS5142" in description
    assert "délivrée par Coopérative des Tiers-Lieux" in description
    assert "ne vaut pas certification" in description


def test_achievement_ids_are_stable_per_award_and_distinct_between_sites(
    camille, dominique, settings
):
    award = make_award()
    certificate = make_certificate(camille, award)
    first = openbadges.credential(certificate)
    second = openbadges.credential(make_certificate(dominique, award))
    other_award = openbadges.credential(make_certificate(camille, make_award(title="Autre")))
    achievement_id = first["credentialSubject"]["achievement"]["id"]
    assert second["credentialSubject"]["achievement"]["id"] == achievement_id
    assert other_award["credentialSubject"]["achievement"]["id"] != achievement_id
    assert first["credentialSubject"]["id"] != second["credentialSubject"]["id"]
    settings.SITE_URL = "https://autre-campus.example.org"
    elsewhere = openbadges.credential(certificate)
    assert elsewhere["credentialSubject"]["achievement"]["id"] != achievement_id


def test_the_holders_email_is_only_there_salted_and_hashed(client, camille):
    certificate = make_certificate(camille)
    token = download(client, certificate, camille)
    payload = base64.urlsafe_b64decode(segments(token)[1] + "==").decode()
    assert "camille@example.org" not in payload
    identifiers = json.loads(payload)["credentialSubject"]["identifier"]
    email = next(i for i in identifiers if i["identityType"] == "emailAddress")
    assert email["hashed"] is True
    expected = hashlib.sha256(f"camille@example.org{email['salt']}".encode()).hexdigest()
    assert email["identityHash"] == f"sha256${expected}"


def test_an_erased_holders_credential_carries_no_email_hash(camille):
    certificate = make_certificate(camille)
    camille.erased_at = timezone.now()
    camille.save()
    certificate.refresh_from_db()
    identifiers = openbadges.credential(certificate)["credentialSubject"]["identifier"]
    assert [i["identityType"] for i in identifiers] == ["name"]


def test_the_issuer_profile_is_published_where_its_id_points(client, camille):
    vc = openbadges.credential(make_certificate(camille))
    path = vc["issuer"]["id"].removeprefix(SITE)
    profile = client.get(path).json()
    assert profile["id"] == vc["issuer"]["id"]
    assert profile["type"] == ["Profile"]
    assert profile["name"] == "Campus Tiers-Lieux"


# --- Signature --------------------------------------------------------------------------


def test_the_credential_verifies_with_the_published_jwks_and_its_claims_match(client, camille):
    certificate = make_certificate(camille, expires_at=timezone.now() + timedelta(days=365))
    token = download(client, certificate, camille)
    decoded = jwt.decode(token, published_keys(client), algorithms=["ES256"])
    assert decoded.header["alg"] == "ES256"
    assert decoded.header["typ"] == "JWT"
    vc = claims = decoded.claims
    assert claims["iss"] == vc["issuer"]["id"]
    assert claims["jti"] == vc["id"]
    assert claims["sub"] == vc["credentialSubject"]["id"]
    assert claims["nbf"] == int(datetime.fromisoformat(vc["validFrom"]).timestamp())
    assert claims["exp"] == int(datetime.fromisoformat(vc["validUntil"]).timestamp())
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": vc["issuer"]["id"]}).validate(claims)


def test_the_kid_dereferences_to_the_public_key_and_never_to_the_private_part(client, camille):
    token = download(client, make_certificate(camille), camille)
    kid = decode_segment(segments(token)[0])["kid"]
    assert kid.startswith(f"{SITE}/openbadges/keys/")
    jwk = client.get(kid.removeprefix(SITE)).json()
    assert jwk["kid"] == kid
    assert "d" not in jwk
    for published in client.get("/.well-known/jwks.json").json()["keys"]:
        assert "d" not in published


def test_changing_one_character_of_the_payload_breaks_the_signature(client, camille):
    token = download(client, make_certificate(camille), camille)
    header, payload, signature = segments(token)
    tampered = ".".join([header, flip(payload, len(payload) // 2), signature])
    with pytest.raises(BadSignatureError):
        jwt.decode(tampered, published_keys(client), algorithms=["ES256"])


def test_a_tampered_signature_is_refused(client, camille):
    token = download(client, make_certificate(camille), camille)
    header, payload, signature = segments(token)
    tampered = ".".join([header, payload, flip(signature, 10)])
    with pytest.raises(BadSignatureError):
        jwt.decode(tampered, published_keys(client), algorithms=["ES256"])


def test_a_credential_signed_by_another_key_is_refused(client, camille, settings, tmp_path):
    certificate = make_certificate(camille)
    real_kid = openbadges.key_url(keys.key_id(keys.load_active()))
    settings.OPENBADGES_KEY_PATH = tmp_path / "intruder" / "key.jwk"
    intruder = keys.generate()
    forged = openbadges.sign(openbadges.credential(certificate), intruder)
    claims = decode_segment(segments(forged)[1])
    posing = jwt.encode({"alg": "ES256", "kid": real_kid, "typ": "JWT"}, claims, intruder)
    settings.OPENBADGES_KEY_PATH = tmp_path / "keys" / "openbadges-issuer.jwk"
    with pytest.raises(InvalidKeyIdError):  # no published key carries the forger's kid
        jwt.decode(forged, published_keys(client), algorithms=["ES256"])
    with pytest.raises(BadSignatureError):  # and borrowing ours does not make it verify
        jwt.decode(posing, published_keys(client), algorithms=["ES256"])


# --- Keys ---------------------------------------------------------------------------------


def test_the_key_file_is_private_to_its_owner(issuer_key):
    assert stat.S_IMODE(os.stat(issuer_key).st_mode) == 0o600


def test_generating_a_key_refuses_to_overwrite_the_existing_one(issuer_key):
    before = issuer_key.read_text()
    with pytest.raises(CommandError, match="--rotate"):
        call_command("generate_issuer_key")
    assert issuer_key.read_text() == before


def test_after_rotation_old_and_new_credentials_both_verify(client, camille, dominique):
    old = download(client, make_certificate(camille), camille)
    call_command("generate_issuer_key", "--rotate", stdout=open(os.devnull, "w"))  # noqa: SIM115
    new = download(client, make_certificate(dominique), dominique)
    assert decode_segment(segments(old)[0])["kid"] != decode_segment(segments(new)[0])["kid"]
    key_set = published_keys(client)
    assert len(key_set.keys) == 2
    for token in (old, new):
        assert jwt.decode(token, key_set, algorithms=["ES256"]).claims["credentialSubject"]


def test_a_forced_replacement_stops_publishing_the_old_key(client, camille):
    old = download(client, make_certificate(camille), camille)
    call_command("generate_issuer_key", "--force", stdout=open(os.devnull, "w"))  # noqa: SIM115
    key_set = published_keys(client)
    assert len(key_set.keys) == 1
    with pytest.raises(InvalidKeyIdError):
        jwt.decode(old, key_set, algorithms=["ES256"])


def test_a_retired_key_exposed_since_can_be_withdrawn(client, camille, dominique):
    old = download(client, make_certificate(camille), camille)
    old_kid = decode_segment(segments(old)[0])["kid"]  # the URL, as the JWKS names it
    call_command("generate_issuer_key", "--rotate", stdout=open(os.devnull, "w"))  # noqa: SIM115
    new = download(client, make_certificate(dominique), dominique)

    call_command("generate_issuer_key", "--withdraw", old_kid, stdout=open(os.devnull, "w"))  # noqa: SIM115

    key_set = published_keys(client)
    assert len(key_set.keys) == 1
    with pytest.raises(InvalidKeyIdError):
        jwt.decode(old, key_set, algorithms=["ES256"])
    assert jwt.decode(new, key_set, algorithms=["ES256"]).claims["credentialSubject"]
    with pytest.raises(CommandError):
        call_command("generate_issuer_key", "--withdraw", "inconnue")


def test_in_development_a_missing_key_is_created_on_first_use(client, camille, settings, tmp_path):
    settings.DEBUG = True
    settings.OPENBADGES_KEY_PATH = tmp_path / "dev" / "openbadges-issuer.jwk"
    token = download(client, make_certificate(camille), camille)
    assert settings.OPENBADGES_KEY_PATH.exists()
    assert jwt.decode(token, published_keys(client), algorithms=["ES256"])


def test_in_production_a_missing_key_is_a_clear_503_and_logged(
    client, camille, settings, tmp_path, caplog
):
    settings.DEBUG = False
    settings.OPENBADGES_KEY_PATH = tmp_path / "nowhere" / "openbadges-issuer.jwk"
    client.force_login(camille)
    response = client.get(credential_url(make_certificate(camille)))
    assert response.status_code == 503
    assert "certification/verify_openbadges_unavailable.html" in [
        t.name for t in response.templates
    ]
    assert "generate_issuer_key" in caplog.text
    assert not settings.OPENBADGES_KEY_PATH.exists()


# --- Status -------------------------------------------------------------------------------


def status_of(client, certificate) -> dict:
    response = client.get(openbadges.status_url(certificate).removeprefix(SITE))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-cache"
    return response.json()


def test_the_status_of_a_standing_credential_lists_no_revocation(client, camille):
    certificate = make_certificate(camille)
    status = status_of(client, certificate)
    assert status["type"] == "1EdTechRevocationList"
    assert status["issuer"] == openbadges.issuer_id()
    assert status["revokedCredentials"] == []
    assert status["status"] == "valid"


def test_the_status_of_a_revoked_credential_lists_it_with_its_reason(client, camille):
    certificate = make_certificate(camille)
    vc_id = openbadges.credential(certificate)["id"]
    revoke(certificate, reason="Erreur de saisie.")
    status = status_of(client, certificate)
    assert status["status"] == "revoked"
    assert status["revokedCredentials"] == [
        {
            "id": vc_id,
            "revocationReason": "Erreur de saisie.",
            "revokedAt": openbadges.timestamp(certificate.revoked_at),
        }
    ]


def test_the_status_of_a_superseded_credential_points_to_its_successor(client, camille):
    certificate = make_certificate(camille)
    successor = supersede(certificate)
    status = status_of(client, certificate)
    assert status["status"] == "superseded"
    [entry] = status["revokedCredentials"]
    assert entry["id"] == openbadges.verification_url(certificate)
    assert entry["supersededBy"] == openbadges.verification_url(successor)
    assert status_of(client, successor)["revokedCredentials"] == []


def test_the_status_of_an_expired_credential_says_so(client, camille):
    certificate = make_certificate(camille, expires_at=timezone.now() - timedelta(days=1))
    status = status_of(client, certificate)
    assert status["status"] == "expired"
    assert status["validUntil"] == openbadges.timestamp(certificate.expires_at)
    assert Certificate.objects.get(pk=certificate.pk).status == Certificate.Status.VALID


def test_a_copy_re_issued_for_a_corrected_name_keeps_the_date_the_award_was_earned(camille):
    from certification import services

    original = make_certificate(camille, issued_at=timezone.now() - timedelta(days=400))
    camille.full_name = "Camille Martin-Durand"
    camille.save()

    copy = services.reissue(original, by=None)

    document = openbadges.credential(copy)
    assert document["awardedDate"] == openbadges.timestamp(original.issued_at)
    assert document["validFrom"] == openbadges.timestamp(copy.issued_at)
    assert document["awardedDate"] < document["validFrom"]
    jsonschema.validate(document, SCHEMA)
