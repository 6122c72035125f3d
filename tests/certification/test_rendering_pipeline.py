"""What rendering shares between certificates, and what the Latin font subsets cover.

Workers reuse one font configuration and one parsed stylesheet per process and
thread (issue #6): reusing them must never change a PDF, nor cross threads.
"""

import threading
from io import BytesIO
from pathlib import Path

import pytest
import zxingcpp
from django.conf import settings
from django.template.loader import render_to_string
from fontTools.ttLib import TTFont
from PIL import Image, ImageOps
from pypdf import PdfReader

from certification import rendering, services
from certification.models import Certificate
from tests.certification.conftest import reach

SUBSETS = sorted((Path(settings.BASE_DIR) / "static" / "fonts").glob("*-Latin.ttf"))


@pytest.fixture
def certificate(setting, camille) -> Certificate:
    certificate, _ = services.issue(camille, setting.block_award, render=False)
    return certificate


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(BytesIO(pdf))


def embedded_fonts(pdf: bytes) -> dict[str, dict]:
    return {
        str(font["/BaseFont"]).split("+", 1)[-1]: font.get_object()
        for page in reader(pdf).pages
        for font in page["/Resources"]["/Font"].values()
    }


def test_a_worker_renders_every_certificate_with_one_font_configuration_and_stylesheet(
    certificate,
):
    first = rendering.pipeline()
    rendering.render_pdf(certificate)
    assert rendering.pipeline() is first


def test_another_thread_gets_its_own_pipeline_and_the_same_document(certificate):
    here = rendering.render_pdf(certificate)
    there = {}

    def render_elsewhere():
        there["pipeline"] = rendering.pipeline()
        there["pdf"] = rendering.render_pdf(certificate)

    thread = threading.Thread(target=render_elsewhere)
    thread.start()
    thread.join()
    assert there["pipeline"] is not rendering.pipeline()
    assert reader(there["pdf"]).pages[0].extract_text() == reader(here).pages[0].extract_text()


def test_the_shared_pipeline_keeps_fonts_embedded_and_the_qr_code_drawn(certificate):
    rendering.render_pdf(certificate)  # the second render is the one that reuses
    pdf = rendering.render_pdf(certificate)

    fonts = embedded_fonts(pdf)
    # Two faces: each one a certificate uses is subset and embedded for every PDF.
    assert set(fonts) == {"Campus-Sans", "Campus-Serif-Bold"}
    for font in fonts.values():
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor  # embedded, not merely named
    images = [
        xobject
        for xobject in reader(pdf).pages[0]["/Resources"]["/XObject"].values()
        if xobject.get_object()["/Subtype"] == "/Image"
    ]
    assert len(images) == 1  # the QR code
    assert "/StructTreeRoot" in reader(pdf).trailer["/Root"]


def test_names_in_other_latin_alphabets_print_in_the_shipped_fonts(setting, dominique):
    dominique.full_name = "Łucja Dvořák-Nguyễn Şahin Ærøskøbing"
    dominique.save()
    certificate, _ = services.issue(dominique, setting.block_award, render=False)

    pdf = rendering.render_pdf(certificate)

    assert all(name.startswith("Campus-") for name in embedded_fonts(pdf))
    assert "Łucja Dvořák-Nguyễn Şahin Ærøskøbing" in reader(pdf).pages[0].extract_text()


@pytest.mark.parametrize("subset", SUBSETS, ids=lambda path: path.name)
def test_each_subset_covers_french_typography_and_the_certificates_own_text(subset):
    own_text = "".join(
        (Path(settings.BASE_DIR) / path).read_text()
        for path in (
            "templates/certification/certificate.html",
            "certification/templatetags/certification_tags.py",
        )
    )
    french = "àâäæçéèêëîïôœùûüÿÀÂÄÆÇÉÈÊËÎÏÔŒÙÛÜŸ«»‹›“”‘’„–—…€·•  ‑ﬁﬂ№"
    needed = {ord(char) for char in own_text + french if char not in "\n\t\r"}
    covered = set(TTFont(subset).getBestCmap())
    assert not needed - covered, [chr(code) for code in sorted(needed - covered)]


def test_the_subsets_are_the_ones_the_certificate_stylesheet_loads():
    stylesheet = render_to_string(rendering.STYLESHEET)
    assert SUBSETS and all(f'url("fonts/{path.name}")' in stylesheet for path in SUBSETS)


def test_the_qr_code_printed_is_the_verification_url_module_for_module(certificate):
    pdf = rendering.render_pdf(certificate)

    (image,) = reader(pdf).pages[0].images
    printed = image.image.convert("L")
    expected = rendering.qr_code(rendering.verification_url(certificate)).matrix
    assert printed.size == (len(expected), len(expected))  # one pixel per module
    size = printed.width
    dark = [[printed.getpixel((x, y)) < 128 for x in range(size)] for y in range(size)]
    assert dark == [[bool(module) for module in row] for row in expected]
    # Drawn without smoothing, so that the printed modules keep their edges.
    xobject = next(iter(reader(pdf).pages[0]["/Resources"]["/XObject"].values())).get_object()
    assert xobject["/Interpolate"].value is False


def test_an_independent_decoder_reads_the_printed_qr_code_as_the_verification_url(certificate):
    # segno draws with a fixed mask (docs/decisions.md); a decoder of another
    # project, not segno's own matrix, says whether a phone would read it.
    (image,) = reader(rendering.render_pdf(certificate)).pages[0].images
    modules = image.image.convert("L")
    scale = 8  # a few pixels per module, as a camera sees the print
    printed = modules.resize((modules.width * scale, modules.height * scale), Image.NEAREST)
    # The quiet zone of four modules the page's white margin gives it.
    scanned = ImageOps.expand(printed, border=4 * scale, fill=255)

    (found,) = zxingcpp.read_barcodes(scanned)

    assert found.format == zxingcpp.BarcodeFormat.QRCode
    assert found.text == rendering.verification_url(certificate)
    assert certificate.code in found.text


def test_each_competence_is_printed_with_the_level_reached(setting, camille):
    reach(camille, setting.framework, "B1.1", 2)
    certificate, _ = services.issue(camille, setting.block_award, render=False)
    rows = {row["code"]: row for row in certificate.context["competences"]}

    lines = reader(rendering.render_pdf(certificate)).pages[0].extract_text().splitlines()

    reached = next(line for line in lines if line.startswith("B1.1"))
    assert rows["B1.1"]["level"] and rows["B1.1"]["level"] in reached
    assert rows["B1.1"]["title"] in reached
    not_reached = next(line for line in lines if line.startswith("B1.2"))
    assert not_reached.endswith("— niveau non atteint")
