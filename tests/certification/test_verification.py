"""Public verification: /verify/<code>/, its JSON, the PDF check and the rate limit."""

import hashlib
import html
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from certification import services, verification_views
from certification.models import Award, Certificate, new_verification_code
from tests.certification.verification_data import (
    frozen_context,
    make_award,
    make_certificate,
    pdf_bytes,
    revoke,
    supersede,
)
from tests.html_checks import soup_of


@pytest.fixture(autouse=True)
def fresh_rate_limit(settings, monkeypatch):
    """Every test starts with an empty counter, inside one frozen rate-limit window."""
    cache.clear()
    settings.SITE_URL = "https://campus.example.org"
    monkeypatch.setattr(verification_views, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))
    yield
    cache.clear()


def verify_url(certificate) -> str:
    return reverse("certification:verify", kwargs={"code": certificate.code})


def json_url(certificate) -> str:
    return reverse("certification:verify_json", kwargs={"code": certificate.code})


# --- Statuses ---------------------------------------------------------------------------


def test_a_valid_certificate_shows_holder_award_issuer_date_competences_and_fingerprint(
    client, camille
):
    pdf = pdf_bytes()
    certificate = make_certificate(camille, pdf=pdf)
    response = client.get(verify_url(certificate))
    assert response.status_code == 200
    record = response.context["record"]
    assert record["status"] == "valid"
    assert record["holder"] == "Camille Martin"
    assert record["award"]["title"] == "Facilitateur·rice de tiers-lieux"
    assert record["issuer"] == "Campus Tiers-Lieux"
    assert record["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert [c["code"] for c in record["competences"]] == ["B1.1", "B1.2", "B2.1", "B2.2"]
    assert {c["level"] for c in record["competences"]} == {"Appliquer"}
    html = response.content.decode()
    assert 'data-status="valid"' in html
    assert "Camille Martin" in html
    assert hashlib.sha256(pdf).hexdigest() in html
    assert 'data-competence="B2.2"' in html


def certifier_context(learner, award) -> dict:
    context = frozen_context(learner, award)
    context["framework"].update(
        {"awarding_body": "Coopérative des Tiers-Lieux", "registry": "Répertoire spécifique"}
    )
    return context


def test_a_framework_attestation_says_it_is_not_the_certification_and_who_awards_that(
    client, camille
):
    award = make_award()
    certificate = make_certificate(camille, award, context=certifier_context(camille, award))
    response = client.get(verify_url(certificate))
    html = response.content.decode()
    assert "Certification complète" not in html
    assert 'data-field="certification-note"' in html
    assert "Coopérative des Tiers-Lieux" in html
    # A machine-readable date HTML accepts (no microseconds), the day printed beside it.
    issued = timezone.localdate(certificate.issued_at).isoformat()
    assert f'<time datetime="{issued}">' in html
    assert "RS5142" in html
    data = client.get(json_url(certificate)).json()
    assert data["award"]["kind"] == "certification"
    assert data["award"]["kind_label"] not in ("Certification complète", "Full certification")


def test_a_block_attestation_says_it_records_progress_toward_the_certification(client, camille):
    framework = make_award().framework
    award = Award.objects.create(
        kind=Award.Kind.BLOCK,
        title="Bloc B1",
        criteria="B1.",
        block=framework.blocks.get(code="B1"),
    )
    context = certifier_context(camille, make_award())
    context["award"].update({"title": "Bloc B1", "kind": "block"})
    certificate = make_certificate(camille, award, context=context)
    html = client.get(verify_url(certificate)).content.decode()
    assert 'data-field="certification-note"' in html
    assert "Coopérative des Tiers-Lieux" in html
    # As the PDF says it: only the certifier validates a block of the RS.
    assert "Attestation de progression vers la certification" in html
    assert "validation de bloc" not in html
    as_json = client.get(verify_url(certificate), HTTP_ACCEPT="application/json").text
    assert "validation de bloc" not in as_json


def test_the_verification_page_asks_robots_not_to_index_it(client, camille):
    certificate = make_certificate(camille)
    response = client.get(verify_url(certificate))
    assert response["X-Robots-Tag"] == "noindex"
    assert '<meta name="robots" content="noindex">' in response.content.decode()
    assert client.get(json_url(certificate))["X-Robots-Tag"] == "noindex"
    form = client.get(reverse("certification:verify_form"))
    assert form["X-Robots-Tag"] == "noindex"


def test_a_revoked_certificate_says_when_and_why(client, camille):
    certificate = make_certificate(camille)
    revoke(certificate, reason="Fraude à l'évaluation constatée.")
    response = client.get(verify_url(certificate))
    assert response.status_code == 200
    assert response.context["record"]["status"] == "revoked"
    html = response.content.decode()
    assert 'data-status="revoked"' in html
    assert "Fraude à l&#x27;évaluation constatée." in html

    data = client.get(json_url(certificate)).json()
    assert data["status"] == "revoked"
    assert data["reason"] == "Fraude à l'évaluation constatée."
    assert data["revoked_at"] == certificate.revoked_at.isoformat()


def test_an_expired_certificate_says_since_when(client, camille):
    expired_on = timezone.now() - timedelta(days=2)
    certificate = make_certificate(camille, expires_at=expired_on)
    response = client.get(verify_url(certificate))
    assert response.context["record"]["status"] == "expired"
    assert 'data-status="expired"' in response.content.decode()

    data = client.get(json_url(certificate)).json()
    assert data["status"] == "expired"
    assert data["expires_at"] == expired_on.isoformat()
    assert data["revoked_at"] is None


def test_a_certificate_not_yet_expired_is_valid_and_says_until_when(client, camille):
    until = timezone.now() + timedelta(days=300)
    certificate = make_certificate(camille, expires_at=until)
    data = client.get(json_url(certificate)).json()
    assert data["status"] == "valid"
    assert data["expires_at"] == until.isoformat()


def test_a_superseded_certificate_links_to_the_one_that_replaces_it(client, camille):
    certificate = make_certificate(camille)
    successor = supersede(certificate)
    response = client.get(verify_url(certificate))
    assert response.context["record"]["status"] == "superseded"
    assert f'href="{verify_url(successor)}"' in response.content.decode()

    data = client.get(json_url(certificate)).json()
    assert data["status"] == "superseded"
    assert data["superseded_by"] == f"https://campus.example.org{verify_url(successor)}"
    assert client.get(json_url(successor)).json()["status"] == "valid"


def test_a_copy_whose_replacement_was_revoked_since_says_so_and_not_replaced(client, camille):
    certificate = make_certificate(camille)
    successor = supersede(certificate)
    assert (
        "Un certificat plus récent remplace celui-ci." in client.get(verify_url(certificate)).text
    )

    # The newer copy is revoked: the older page, already cached, must not vouch for it.
    Certificate.objects.filter(pk=successor.pk).update(
        status=Certificate.Status.REVOKED, revoked_at=timezone.now(), revocation_reason="Fraude"
    )

    page = html.unescape(client.get(verify_url(certificate)).text)
    assert "Un certificat plus récent remplace celui-ci." not in page
    assert "et il n'est plus valide non plus : révoqué." in page
    assert f'href="{verify_url(successor)}"' in page
    data = client.get(json_url(certificate)).json()
    assert data["status"] == "superseded"
    assert (data["replaced_by"]["status"], data["replaced_by"]["url"]) == (
        "revoked",
        f"https://campus.example.org{verify_url(successor)}",
    )


def test_a_chain_of_replacements_leads_to_its_last_certificate(client, camille):
    first = make_certificate(camille)
    second = supersede(first)
    third = supersede(second)

    data = client.get(json_url(first)).json()

    assert data["superseded_by"] == f"https://campus.example.org{verify_url(second)}"
    assert data["replaced_by"]["url"] == f"https://campus.example.org{verify_url(third)}"
    assert data["replaced_by"]["status"] == "valid"
    assert f'href="{verify_url(third)}"' in client.get(verify_url(first)).text


def test_the_json_gives_machines_every_field_also_with_format_json(client, camille):
    pdf = pdf_bytes()
    certificate = make_certificate(camille, pdf=pdf)
    data = client.get(json_url(certificate)).json()
    assert client.get(verify_url(certificate), {"format": "json"}).json() == data
    assert data["code"] == certificate.code
    assert data["holder"] == "Camille Martin"
    assert data["award"]["title"] == "Facilitateur·rice de tiers-lieux"
    assert data["award"]["kind"] == "certification"
    assert data["issued_at"] == certificate.issued_at.isoformat()
    assert data["expires_at"] is None
    assert data["revoked_at"] is None
    assert data["reason"] is None
    assert data["superseded_by"] is None and data["replaced_by"] is None
    assert data["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert data["verification_url"] == f"https://campus.example.org{verify_url(certificate)}"


# --- Codes ------------------------------------------------------------------------------


def test_a_code_typed_in_lower_case_with_spaces_leads_to_the_certificate(client, camille):
    certificate = make_certificate(camille)
    typed = certificate.code.replace("-", " ").lower()
    response = client.get(reverse("certification:verify_form"), {"code": typed}, follow=True)
    assert response.status_code == 200
    assert response.context["record"]["code"] == certificate.code
    assert response.redirect_chain[-1][0] == verify_url(certificate)


def test_digits_typed_for_the_letters_they_look_like_still_find_the_certificate(client, camille):
    certificate = make_certificate(camille)
    Certificate.objects.filter(pk=certificate.pk).update(code="OIBA-" + certificate.code[5:])
    certificate.refresh_from_db()
    typed = "01 8a" + certificate.code[4:]  # zero, one and eight read from a print
    response = client.get(reverse("certification:verify_form"), {"code": typed}, follow=True)
    assert response.status_code == 200
    assert response.context["record"]["code"] == certificate.code


def test_a_mistyped_code_leads_back_to_the_form(client, camille):
    response = client.get(reverse("certification:verify", kwargs={"code": "ABCD-EFGH"}))
    assert response.status_code == 404
    assert f'href="{reverse("certification:verify_form")}"' in response.text


def test_a_sloppy_code_in_the_address_redirects_to_the_canonical_one(client, camille):
    certificate = make_certificate(camille)
    sloppy = certificate.code.replace("-", "").lower()
    response = client.get(reverse("certification:verify", kwargs={"code": sloppy}))
    assert response.status_code == 302
    assert response["Location"] == verify_url(certificate)


def test_the_form_asks_again_when_nothing_usable_was_typed(client, db):
    response = client.get(reverse("certification:verify_form"), {"code": " -- "})
    assert response.status_code == 200
    assert "code" in response.context["form"].errors


def test_a_code_of_the_wrong_length_is_said_on_the_form_with_what_was_typed(client, db):
    typed = "KNOH-NUKT-2BC6-FD3D-TIHC-IAHE-ZGYT"  # four characters short

    response = client.get(reverse("certification:verify_form"), {"code": typed})

    assert response.status_code == 200
    [said] = response.context["form"].errors["code"]
    assert "32 caractères" in said and "celui-ci en a 28" in said
    assert f'value="{typed}"' in response.content.decode()


def test_a_character_codes_never_hold_is_named_not_counted(client, db):
    typed = "KNOH-NUKT-2BC6-FD3D-TIHC-IAHE-ZGYT-FJ99"  # a 9: the length is right

    response = client.get(reverse("certification:verify_form"), {"code": typed})

    [said] = response.context["form"].errors["code"]
    assert "chiffres 2 à 7" in said and "contient 9" in said and "32" not in said
    assert f'value="{typed}"' in response.content.decode()


def test_the_verification_link_pasted_whole_finds_its_certificate(client, camille):
    certificate = make_certificate(camille)
    pasted = f"https://campus.example/verify/{certificate.code}/?utm_source=cv"

    response = client.get(reverse("certification:verify_form"), {"code": pasted})

    assert response.status_code == 302
    assert response["Location"] == verify_url(certificate)


def page_without(response, path: str) -> str:
    html = response.content.decode().replace(path, "PATH")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)


def test_an_unknown_code_is_the_same_404_as_any_unknown_page(client, camille):
    make_certificate(camille)
    unknown_code = new_verification_code()
    url = reverse("certification:verify", kwargs={"code": unknown_code})
    response = client.get(url)
    ordinary = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == ordinary.status_code == 404
    assert [t.name for t in response.templates] == [t.name for t in ordinary.templates]
    assert response["Content-Type"] == ordinary["Content-Type"]
    assert "X-Robots-Tag" not in response
    # Byte for byte the same page, once the echoed path and the CSRF token set aside.
    assert page_without(response, url) == page_without(ordinary, "/cette-page-n-existe-pas/")
    assert "Camille" not in response.content.decode()


def test_machines_asking_for_an_unknown_code_get_the_same_json_404_as_any_unknown_address(
    client, camille
):
    make_certificate(camille)
    unknown_code = new_verification_code()
    ordinary = client.get("/nothing-here.json")
    for url in (
        reverse("certification:verify_json", kwargs={"code": unknown_code}),
        reverse("certification:openbadges_status", kwargs={"code": unknown_code}),
        reverse("certification:openbadges_key", kwargs={"kid": "unknown"}),
        reverse("certification:verify", kwargs={"code": unknown_code}) + "?format=json",
    ):
        response = client.get(url)
        assert response.status_code == ordinary.status_code == 404
        assert response["Content-Type"] == ordinary["Content-Type"] == "application/json"
        assert response.content == ordinary.content == b'{"detail": "Not found."}'
        # Read by verifiers in browsers, on other origins.
        assert response["Access-Control-Allow-Origin"] == "*"


# --- PDF check --------------------------------------------------------------------------


def upload(client, certificate, content: bytes, name: str = "certificat.pdf"):
    return client.post(
        verify_url(certificate), {"pdf": SimpleUploadedFile(name, content, "application/pdf")}
    )


def test_the_issued_pdf_is_recognised_as_authentic(client, camille):
    pdf = pdf_bytes()
    certificate = make_certificate(camille, pdf=pdf)
    response = upload(client, certificate, pdf)
    assert response.status_code == 200
    assert response.context["pdf_check"] == "authentic"
    assert 'data-pdf-check="authentic"' in response.content.decode()


def test_an_authentic_file_of_a_revoked_certificate_says_it_is_revoked_in_the_answer(
    client, camille
):
    pdf = pdf_bytes()
    certificate = make_certificate(camille, pdf=pdf)
    revoke(certificate)

    response = upload(client, certificate, pdf)

    answer = soup_of(response).select_one("[data-pdf-check=authentic]").get_text(" ", strip=True)
    assert answer.startswith("Authentique")
    assert "Mais ce certificat a été révoqué le" in answer
    valid = make_certificate(camille, pdf=pdf_bytes("Autre"))
    assert (
        "Mais"
        not in soup_of(upload(client, valid, pdf_bytes("Autre")))
        .select_one("[data-pdf-check=authentic]")
        .get_text()
    )


def test_a_copy_of_a_pdf_rendered_before_a_regeneration_still_checks_as_authentic(client, camille):
    first, second = pdf_bytes("Camille Martin"), pdf_bytes("Camille Martin, new template")
    certificate = make_certificate(camille, pdf=first)
    client.get(verify_url(certificate))  # the page is kept in the cache
    services.regenerate_pdf(certificate)  # a template fix: the same content, a new file
    Certificate.objects.filter(pk=certificate.pk).update(
        pdf_sha256=hashlib.sha256(second).hexdigest()
    )

    checks = {
        pdf: upload(client, certificate, pdf).context["pdf_check"]
        for pdf in (first, second, pdf_bytes("Camille Martin, docteure"))
    }

    assert list(checks.values()) == ["authentic_earlier", "authentic", "mismatch"]
    page = client.get(verify_url(certificate)).content.decode()
    assert hashlib.sha256(first).hexdigest() in page
    record = client.get(verify_url(certificate), {"format": "json"}).json()
    assert record["earlier_sha256"] == [hashlib.sha256(first).hexdigest()]


def test_a_regeneration_that_gives_the_same_bytes_lists_no_earlier_rendering(client, camille):
    pdf = pdf_bytes("Camille Martin")
    certificate = make_certificate(camille, pdf=pdf)
    services.regenerate_pdf(certificate)
    # Rendering is deterministic: the same content and template give the same file.
    Certificate.objects.filter(pk=certificate.pk).update(pdf_sha256=hashlib.sha256(pdf).hexdigest())

    record = client.get(verify_url(certificate), {"format": "json"}).json()

    assert record["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert record["earlier_sha256"] == []


def test_an_altered_pdf_does_not_match(client, camille):
    certificate = make_certificate(camille, pdf=pdf_bytes("Camille Martin"))
    response = upload(client, certificate, pdf_bytes("Camille Martin, docteure"))
    assert response.status_code == 200
    assert response.context["pdf_check"] == "mismatch"
    assert 'data-pdf-check="mismatch"' in response.content.decode()


def test_a_file_that_is_not_a_pdf_is_refused_by_its_magic_bytes(client, camille):
    certificate = make_certificate(camille, pdf=pdf_bytes())
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    response = upload(client, certificate, png, name="certificat.pdf")
    assert response.context["pdf_check"] == "not_pdf"
    assert "pdf" in response.context["form"].errors


def test_a_file_over_10_mb_is_refused_unread(client, camille):
    certificate = make_certificate(camille, pdf=pdf_bytes())
    huge = b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024 + 100 * 1024)
    response = upload(client, certificate, huge)
    assert response.status_code == 200
    assert response.context["pdf_check"] == "too_large"
    # The refusal is the file field's own (RGAA 11.10), though no form was parsed.
    field = re.search(r'<input type="file"[^>]*>', response.text).group(0)
    assert 'aria-invalid="true"' in field
    described_by = re.search(r'aria-describedby="([^"]*)"', field).group(1).split()
    assert "pdf-too-large" in described_by
    assert 'id="pdf-too-large"' in response.text


def test_a_pdf_check_before_the_pdf_is_rendered_says_it_is_not_ready(client, camille):
    certificate = make_certificate(camille)
    response = upload(client, certificate, pdf_bytes())
    assert response.context["pdf_check"] == "unavailable"
    assert response.context["record"]["sha256"] is None


def test_the_pdf_check_keeps_csrf_protection(camille):
    from django.test import Client

    certificate = make_certificate(camille, pdf=pdf_bytes())
    strict = Client(enforce_csrf_checks=True)
    response = upload(strict, certificate, pdf_bytes())
    assert response.status_code == 403


# --- Rate limit -------------------------------------------------------------------------


def test_lookups_past_the_limit_get_a_clear_429_and_other_visitors_are_unaffected(
    client, camille, settings
):
    settings.VERIFY_LOOKUPS_PER_MINUTE = 3
    certificate = make_certificate(camille)
    for _ in range(3):
        assert client.get(verify_url(certificate)).status_code == 200
    refused = client.get(verify_url(certificate))
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "certification/verify_rate_limited.html" in [t.name for t in refused.templates]
    # Unknown codes count too: sweeping codes is what the limit is for.
    unknown = reverse("certification:verify", kwargs={"code": new_verification_code()})
    assert client.get(unknown).status_code == 429
    assert client.get(json_url(certificate)).status_code == 429
    assert client.get(json_url(certificate)).json()["error"] == "rate_limited"

    elsewhere = client.get(verify_url(certificate), REMOTE_ADDR="198.51.100.7")
    assert elsewhere.status_code == 200


def test_open_badges_status_checks_have_their_own_budget_and_their_429_is_json(
    client, camille, settings
):
    settings.VERIFY_LOOKUPS_PER_MINUTE = 2
    settings.OPENBADGES_STATUS_LOOKUPS_PER_MINUTE = 4
    certificate = make_certificate(camille)
    status_url = reverse("certification:openbadges_status", kwargs={"code": certificate.code})
    for _ in range(2):
        assert client.get(verify_url(certificate)).status_code == 200
    assert client.get(verify_url(certificate)).status_code == 429
    # A verifier checking a batch of badges is not cut off by people's lookups.
    for _ in range(4):
        assert client.get(status_url).status_code == 200
    refused = client.get(status_url)
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert refused["Access-Control-Allow-Origin"] == "*"
    assert int(refused["Retry-After"]) > 0


def test_unknown_codes_at_the_status_endpoint_get_the_peoples_budget(client, camille, settings):
    settings.VERIFY_LOOKUPS_PER_MINUTE = 2
    settings.OPENBADGES_STATUS_LOOKUPS_PER_MINUTE = 100

    def status(code):
        return client.get(reverse("certification:openbadges_status", kwargs={"code": code}))

    certificate = make_certificate(camille)
    assert status(new_verification_code()).status_code == 404
    assert status(new_verification_code()).status_code == 404
    refused = status(new_verification_code())
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    # A known code is refused alike: 200 against 429 would still tell codes apart.
    assert status(certificate.code).status_code == 429


def test_an_ipv6_network_counts_as_one_visitor(client, camille, settings):
    settings.VERIFY_LOOKUPS_PER_MINUTE = 2
    certificate = make_certificate(camille)
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::ffff"):
        assert client.get(verify_url(certificate), REMOTE_ADDR=host).status_code == 200
    # Another address of the same /64 is the same subscriber; another network is not.
    assert client.get(verify_url(certificate), REMOTE_ADDR="2001:db8:1:2:a::9").status_code == 429
    assert client.get(verify_url(certificate), REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


def test_a_code_typed_in_another_form_redirects_machines_readably_across_origins(client, camille):
    certificate = make_certificate(camille)
    typed = reverse("certification:verify_json", kwargs={"code": certificate.code.lower()})
    response = client.get(typed)
    assert response.status_code == 302
    assert response["Location"] == json_url(certificate)
    assert response["Access-Control-Allow-Origin"] == "*"


def test_the_limit_resets_with_the_next_minute(client, camille, settings, monkeypatch):
    settings.VERIFY_LOOKUPS_PER_MINUTE = 1
    certificate = make_certificate(camille)
    assert client.get(verify_url(certificate)).status_code == 200
    assert client.get(verify_url(certificate)).status_code == 429
    monkeypatch.setattr(verification_views, "time", SimpleNamespace(time=lambda: 1_800_000_095.0))
    assert client.get(verify_url(certificate)).status_code == 200


def test_behind_a_trusted_proxy_the_limit_applies_to_the_forwarded_client(
    client, camille, settings
):
    settings.VERIFY_LOOKUPS_PER_MINUTE = 1
    settings.TRUSTED_PROXY_COUNT = 1
    certificate = make_certificate(camille)
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    first = client.get(verify_url(certificate), HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy)
    assert first.status_code == 200
    # A spoofed leftmost hop does not buy a fresh counter: the proxy's hop is the one trusted.
    spoofed = client.get(
        verify_url(certificate), HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.1", **proxy
    )
    assert spoofed.status_code == 429
    other = client.get(verify_url(certificate), HTTP_X_FORWARDED_FOR="203.0.113.2", **proxy)
    assert other.status_code == 200


# --- Query budget -----------------------------------------------------------------------


@pytest.mark.parametrize("certificates", [1, 40])
def test_the_verification_page_stays_within_five_queries(
    client, camille, dominique, certificates, django_assert_max_num_queries
):
    award = make_award()
    for _ in range(certificates):
        revoke(make_certificate(dominique, award))
    old = make_certificate(camille, award, pdf=pdf_bytes())
    supersede(old)
    with django_assert_max_num_queries(5):
        assert client.get(verify_url(old)).status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get(json_url(old)).status_code == 200


# --- Reading the page in another language, and certificates without a PDF -----------------


def test_in_english_the_frozen_french_wording_is_marked_as_french(client, camille, settings):
    context = frozen_context(camille, make_award())
    context["competences"][0]["level"] = None  # a competence whose level was not reached
    certificate = make_certificate(camille, context=context)

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(verify_url(certificate))
    soup = soup_of(response)

    assert soup.html["lang"] == "en"
    award = soup.select_one("[data-field=award] span[lang]")
    assert (award["lang"], award.get_text()) == ("fr", "Facilitateur·rice de tiers-lieux")
    first = soup.select("tr[data-competence] td")
    assert first[1]["lang"] == "fr" and first[2].get_text() == "not reached"
    # In French, nothing needs marking.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    french = soup_of(client.get(verify_url(certificate)))
    assert french.select_one("[data-field=award] span[lang]") is None
    assert french.select("tr[data-competence] td")[2].get_text() == "non atteint"


def test_a_certificate_withdrawn_before_its_pdf_says_none_was_produced(client, camille):
    certificate = make_certificate(camille)
    revoke(certificate)

    page = html.unescape(client.get(verify_url(certificate)).text)

    assert "Aucun PDF n'a été produit pour ce certificat avant son retrait." in page
    assert "est en cours de préparation" not in page
