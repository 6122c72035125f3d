"""Every upload endpoint refuses what it must not keep, says why, and stores nothing.

Endpoints: evidence attached to an open answer (learners), the PDF check of the
verification page, the manager's CSV of invitations, the staff's framework
import, and Wagtail's image upload as a trainer uses it.
"""

import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.images.models import Image

from courses.models import Framework
from learners import assessments
from learners.models import InvitationBatch, Submission
from tests.learners.quiz_helpers import set_quiz
from tests.security.conftest import OPEN_QUESTION, PDF

MB = 1024 * 1024
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 120
PE = b"MZ\x90\x00\x03" + b"\x00" * 120
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares `width` x `height` pixels: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def oversized(head: bytes = PDF) -> bytes:
    return head + b"0" * (10 * MB + 1)


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- Evidence attached to an open answer ---------------------------------------------------


@pytest.fixture
def open_attempt(world, camille):
    module = set_quiz(world.other_module, [{**OPEN_QUESTION, "competence": "B1.2"}])
    return assessments.start_attempt(camille, module)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("gros.pdf", oversized()),
        ("page.pdf", HTML),
        ("programme.pdf", ELF),
        ("programme.pdf", PE),
        ("dessin.svg", SVG),
    ],
    ids=["oversized", "html-as-pdf", "elf-as-pdf", "pe-as-pdf", "svg"],
)
def test_evidence_uploads_refuse_what_is_not_an_accepted_document(
    client, world, camille, open_attempt, isolated, name, content
):
    before = stored_files(isolated)
    field = f"q-{open_attempt.questions[0]['id']}"
    client.force_login(camille)
    response = client.post(
        reverse("learners:quiz_take", args=[open_attempt.pk]),
        {field: "Ma réponse.", f"{field}-file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "10 Mo" in html or "10 MB" in html or "SVG" in html
    assert not Submission.objects.filter(attempt=open_attempt).exists()
    assert stored_files(isolated) == before


def test_an_evidence_png_declaring_billions_of_pixels_is_kept_as_bytes_never_decoded(
    client, world, camille, open_attempt
):
    # PNG is an accepted type and nothing on the server decodes evidence (no
    # thumbnail, no resize): the file is only ever downloaded as an attachment.
    field = f"q-{open_attempt.questions[0]['id']}"
    client.force_login(camille)
    bomb = SimpleUploadedFile("bombe.png", png_declaring(50_000, 50_000))
    response = client.post(
        reverse("learners:quiz_take", args=[open_attempt.pk]),
        {field: "Ma réponse.", f"{field}-file": bomb},
    )
    assert response.status_code == 302
    submission = Submission.objects.get(attempt=open_attempt)
    assert submission.file_type == "image/png"
    download = client.get(reverse("learners:submission_file", args=[submission.pk]))
    assert download["Content-Disposition"].startswith("attachment")


# --- The PDF check on the verification page --------------------------------------------


@pytest.mark.parametrize(
    ("content", "outcome"),
    [
        (oversized(), "too_large"),
        (HTML, "not_pdf"),
        (ELF, "not_pdf"),
        (SVG, "not_pdf"),
    ],
    ids=["oversized", "html", "elf", "svg"],
)
def test_the_verification_pdf_check_refuses_non_pdfs_and_big_files(
    client, world, isolated, content, outcome
):
    before = stored_files(isolated)
    response = client.post(
        reverse("certification:verify", args=[world.certificate.code]),
        {"pdf": SimpleUploadedFile("certificat.pdf", content)},
    )
    assert response.status_code == 200
    assert response.context["pdf_check"] == outcome
    assert stored_files(isolated) == before


# --- The manager's invitation CSV ---------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"email\n" + b"a@example.org\n" * 100_000, "1 Mo"),
        (ELF, "UTF-8"),
        (b"\xff\xfe" + "email\n".encode("utf-16-le"), "UTF-8"),
        (SVG, "email"),
    ],
    ids=["oversized", "elf", "utf16", "svg"],
)
def test_the_invitation_csv_refuses_big_binary_or_foreign_files(
    client, helene, isolated, content, reason
):
    client.force_login(helene)
    response = client.post(
        reverse("organisations:invite"),
        {"file": SimpleUploadedFile("liste.csv", content, content_type="text/csv")},
    )
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not InvitationBatch.objects.exists()
    assert stored_files(isolated) == []


# --- The staff's framework import ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("referentiel.json", b"[" + b" " * (5 * MB) + b"]", "5 Mo"),
        ("referentiel.json", ELF, "JSON"),
        ("referentiel.csv", PE, "UTF-8"),
        ("referentiel.svg", SVG, ".json"),
        ("referentiel.json", HTML, "JSON"),
    ],
    ids=["oversized", "elf", "pe", "svg", "html"],
)
def test_the_framework_import_refuses_big_binary_or_foreign_files(
    client, staff, isolated, name, content, reason
):
    client.force_login(staff)
    response = client.post(
        reverse("courses_framework_import"), {"file": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert reason in html
    assert "payload" not in response.context or not response.context.get("payload")
    assert not Framework.objects.exists()
    assert stored_files(isolated) == []


# --- Wagtail images, uploaded by a trainer ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", oversized(png_declaring(10, 10))),
        ("bombe.png", png_declaring(50_000, 50_000)),
        ("grande.png", png_declaring(7_000, 7_000)),  # 49 MP: over our 40 MP, under Wagtail's
        ("dessin.svg", SVG),
        ("page.png", HTML),
        ("programme.jpg", ELF),
    ],
    ids=["oversized", "png-bomb", "49-megapixels", "svg", "html-as-png", "elf-as-jpg"],
)
def test_a_trainer_cannot_upload_a_dangerous_image(client, world, karim, isolated, name, content):
    client.force_login(karim)
    response = client.post(
        reverse("wagtailimages:add"),
        {"title": "Illustration", "file": SimpleUploadedFile(name, content), "collection": 1},
    )
    assert response.status_code == 200  # the form again, with its error
    errors = " ".join(response.context["form"].errors.get("file", []))
    assert errors
    if name in ("bombe.png", "grande.png"):
        assert "pixels" in errors
    assert not Image.objects.exists()
    assert not [p for p in stored_files(isolated) if "images" in p.parts]


def test_a_trainer_uploads_an_ordinary_image(client, world, karim, isolated):
    client.force_login(karim)
    response = client.post(
        reverse("wagtailimages:add"),
        {
            "title": "Illustration",
            "file": SimpleUploadedFile("photo.png", png_declaring(10, 10)),
            "collection": 1,
        },
    )
    assert response.status_code == 302
    assert Image.objects.get().width == 10


# --- Too many parts ---------------------------------------------------------------------


def test_too_many_files_in_one_request_is_a_400(client, camille, settings):
    client.force_login(camille)
    files = {
        f"f{n}": SimpleUploadedFile(f"{n}.pdf", PDF)
        for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    }
    response = client.post(reverse("learners:profile"), files)
    assert response.status_code == 400


def test_too_many_fields_in_one_request_is_a_400(client, camille, settings):
    client.force_login(camille)
    fields = {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client.post(reverse("learners:profile"), fields)
    assert response.status_code == 400
