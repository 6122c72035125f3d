"""Certificates render to tagged PDFs from local files only, once per certificate."""

import hashlib
import http.server
import threading
from io import BytesIO
from pathlib import Path

import pytest
import weasyprint
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from pypdf import PdfReader

from certification import services, tasks
from certification.models import Certificate
from certification.rendering import LocalOnlyURLFetcher, static_root
from tests.certification.conftest import pdf_text


@pytest.fixture
def certificate(setting, camille) -> Certificate:
    certificate, _ = services.issue(camille, setting.block_award, render=False)
    return certificate


def stored_bytes(certificate: Certificate) -> bytes:
    with default_storage.open(certificate.pdf.name, "rb") as handle:
        return handle.read()


def test_the_pdf_names_the_holder_the_award_and_the_verification_code(certificate):
    tasks.render_certificate.delay(certificate.pk)
    certificate.refresh_from_db()

    text = " ".join(pdf_text(certificate).split())
    assert "Camille Martin" in text
    # The block, not the award's title: a block is no certification of its own.
    assert "B1 « Bloc B1 »" in text
    assert certificate.code in text
    assert "Attestation de progression vers la certification" in text
    assert "Claire Dubois" in text


def test_the_pdf_is_tagged_a4_landscape_with_language_and_title(certificate):
    services.render(certificate.pk)
    certificate.refresh_from_db()

    reader = PdfReader(BytesIO(stored_bytes(certificate)))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "fr"
    assert root["/MarkInfo"]["/Marked"]
    assert "/StructTreeRoot" in root
    assert reader.metadata.title == "Bloc B1 validé — Camille Martin"
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(width), round(height)) == (842, 595)
    # Only the fonts shipped under static/fonts/ are embedded.
    fonts = {
        str(font["/BaseFont"]).split("+", 1)[-1]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all(name.startswith("Campus-") for name in fonts)


def test_the_recorded_sha256_is_the_stored_files(certificate):
    services.render(certificate.pk)
    certificate.refresh_from_db()
    assert certificate.pdf_sha256 == hashlib.sha256(stored_bytes(certificate)).hexdigest()
    assert certificate.pdf.name == certificate.storage_name
    assert certificate.rendered_at is not None and certificate.render_claimed_at is None


def test_running_the_render_task_twice_keeps_one_file_and_one_hash(certificate):
    assert tasks.render_certificate.delay(certificate.pk).get() == "rendered"
    certificate.refresh_from_db()
    name, digest, content = certificate.pdf.name, certificate.pdf_sha256, stored_bytes(certificate)

    assert tasks.render_certificate.delay(certificate.pk).get() == "already_rendered"
    certificate.refresh_from_db()
    assert (certificate.pdf.name, certificate.pdf_sha256) == (name, digest)
    assert stored_bytes(certificate) == content
    folder = Path(settings.MEDIA_ROOT) / Path(name).parent
    assert [path.name for path in folder.iterdir()] == [Path(name).name]


def test_a_claim_held_by_a_live_worker_is_respected_and_a_dead_ones_is_taken_over(certificate):
    Certificate.objects.filter(pk=certificate.pk).update(render_claimed_at=timezone.now())
    assert services.render(certificate.pk) is services.RenderOutcome.BUSY

    long_ago = timezone.now() - services.render_lease() * 2
    Certificate.objects.filter(pk=certificate.pk).update(render_claimed_at=long_ago)
    assert services.render(certificate.pk) is services.RenderOutcome.RENDERED


def test_a_file_left_by_a_worker_that_died_before_recording_it_is_replaced(certificate):
    default_storage.save(certificate.storage_name, BytesIO(b"half a PDF"))
    services.render(certificate.pk)
    certificate.refresh_from_db()
    assert certificate.pdf.name == certificate.storage_name
    assert stored_bytes(certificate).startswith(b"%PDF-")


def test_regenerating_renders_the_same_frozen_content_under_the_same_name(
    certificate, django_capture_on_commit_callbacks
):
    services.render(certificate.pk)
    certificate.refresh_from_db()
    name = certificate.pdf.name
    with django_capture_on_commit_callbacks(execute=True):
        services.regenerate_pdf(certificate)
    certificate.refresh_from_db()
    assert certificate.pdf.name == name
    assert "Camille Martin" in pdf_text(certificate)


def test_a_certificate_revoked_meanwhile_keeps_the_pdf_it_was_issued_with(
    certificate, django_capture_on_commit_callbacks
):
    services.render(certificate.pk)
    certificate.refresh_from_db()
    issued = certificate.pdf_sha256
    # Revoked while a bulk « regenerate every PDF » was working through its list.
    Certificate.objects.filter(pk=certificate.pk).update(status=Certificate.Status.REVOKED)

    with django_capture_on_commit_callbacks(execute=True):
        services.regenerate_pdf(certificate)

    certificate.refresh_from_db()
    assert certificate.pdf_sha256 == issued and certificate.pdf.name


# --- Nothing is fetched from outside ------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/logo.png",
        "https://example.org/font.ttf",
        "ftp://example.org/x",
        "file:///etc/passwd",
    ],
)
def test_the_url_fetcher_refuses_the_network_and_files_outside_static_and_media(url):
    with pytest.raises(ValueError, match="Refused"):
        LocalOnlyURLFetcher().fetch(url)


def test_the_url_fetcher_refuses_a_path_that_climbs_out_of_static():
    escape = (
        (static_root() / ".." / "config" / "settings.py")
        .as_uri()
        .replace("/config/", "/static/../config/")
    )
    with pytest.raises(ValueError, match="Refused"):
        LocalOnlyURLFetcher().fetch(escape)
    with pytest.raises(ValueError, match="Refused"):
        LocalOnlyURLFetcher().fetch(f"file://{static_root()}/../config/settings.py")


def test_the_url_fetcher_serves_the_shipped_fonts():
    response = LocalOnlyURLFetcher().fetch((static_root() / "fonts" / "DejaVuSans.ttf").as_uri())
    assert response.read(4) == b"\x00\x01\x00\x00"  # a TrueType file


def test_rendering_a_page_that_points_outside_never_reaches_the_network():
    hits = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        html = (
            f'<html lang="fr"><head><title>t</title>'
            f'<link rel="stylesheet" href="{base}/style.css"></head>'
            f'<body><img src="{base}/logo.png" alt=""><img src="file:///etc/passwd" alt="">'
            f"<p>Bonjour</p></body></html>"
        )
        pdf = weasyprint.HTML(string=html, url_fetcher=LocalOnlyURLFetcher()).write_pdf()
    finally:
        server.shutdown()
    assert pdf.startswith(b"%PDF-")
    assert hits == []
