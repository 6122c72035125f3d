"""Turn a certificate's frozen context into a tagged PDF, with nothing fetched from outside.

The template, its CSS and the fonts under static/fonts/ are the only inputs
besides the context: a certificate rendered again in five years looks the same.

Bulk issuance renders thousands of certificates in long-lived workers, so what
does not depend on the certificate is built once per process and thread and
reused: the font configuration (Fontconfig + Pango, with the @font-face fonts
loaded) and the parsed stylesheet. Building them per render cost most of a
certificate's memory growth and a good part of its time (docs/performance.md).
"""

import mimetypes
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import segno
import weasyprint
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from weasyprint.text.fonts import FontConfiguration

from certification.models import Certificate

TEMPLATE = "certification/certificate.html"
STYLESHEET = "certification/includes/certificate.css"
PDF_VARIANT = "pdf/ua-1"


def static_root() -> Path:
    return Path(settings.BASE_DIR) / "static"


def allowed_roots() -> list[Path]:
    return [static_root().resolve(), Path(settings.MEDIA_ROOT).resolve()]


class LocalOnlyURLFetcher(weasyprint.URLFetcher):
    """Serves data: URIs and files under static/ or MEDIA_ROOT; refuses everything else.

    A certificate template (or a value someone typed into a field printed on it)
    must never make the renderer reach the network or read arbitrary files.
    """

    def fetch(self, url: str, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise ValueError(f"Refused to fetch {url!r}: only local static files are served.")
        path = Path(url2pathname(unquote(urlsplit(url).path))).resolve()
        if not any(path.is_relative_to(root) for root in allowed_roots()):
            raise ValueError(f"Refused to read {path}: outside static/ and media.")
        if not path.is_file():
            raise FileNotFoundError(path)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return weasyprint.urls.URLFetcherResponse(
            url, body=path.read_bytes(), headers={"Content-Type": content_type}
        )


@dataclass(frozen=True)
class Pipeline:
    """What every certificate shares: fonts loaded once, stylesheet parsed once."""

    pid: int
    font_config: FontConfiguration
    stylesheet: weasyprint.CSS


_local = threading.local()
# Pango and Fontconfig objects are not safe to share between threads, hence one
# pipeline per thread. A forked child (Celery's prefork pool) builds its own, and
# keeps the one it inherited referenced: dropping it would run its finaliser,
# which deletes the parent's temporary font folder.
_inherited: list[Pipeline] = []


def base_url() -> str:
    # Relative URLs in the template and its CSS (fonts) resolve under static/.
    return str(static_root()) + "/"


def pipeline() -> Pipeline:
    current = getattr(_local, "pipeline", None)
    if current is not None and current.pid == os.getpid():
        return current
    if current is not None:
        _inherited.append(current)
    font_config = FontConfiguration()
    stylesheet = weasyprint.CSS(
        string=render_to_string(STYLESHEET),
        base_url=base_url(),
        url_fetcher=LocalOnlyURLFetcher(),
        font_config=font_config,
    )
    _local.pipeline = Pipeline(os.getpid(), font_config, stylesheet)
    return _local.pipeline


def verification_url(certificate: Certificate) -> str:
    return settings.SITE_URL + reverse("certification:verify", kwargs={"code": certificate.code})


# Every mask makes a valid code that every reader decodes; choosing the best-scoring
# of the eight means trying them all in pure Python, about 5 ms a certificate (as much
# as two lines of its text). The scoring only steers clear of patterns that confuse
# poor scanners (docs/decisions.md).
QR_MASK = 4


def qr_code(url: str) -> segno.QRCode:
    return segno.make(url, error="m", mask=QR_MASK)


def qr_code_data_uri(url: str) -> str:
    # One pixel per module, drawn without smoothing (image-rendering: pixelated in the
    # CSS, /Interpolate false in the PDF): the smallest PNG to encode and embed, and
    # WeasyPrint parses an SVG path of hundreds of segments far more slowly.
    return qr_code(url).png_data_uri(dark="#1f2a44", border=0, scale=1)


def certificate_html(certificate: Certificate) -> str:
    url = verification_url(certificate)
    # The certificate is a French legal document whatever the staff's language.
    with translation.override("fr"):
        return render_to_string(
            TEMPLATE,
            {
                "certificate": certificate,
                "c": certificate.context,
                "verification_url": url,
                "qr_code": qr_code_data_uri(url),
            },
        )


def render_pdf(certificate: Certificate) -> bytes:
    """The certificate as a tagged PDF (PDF/UA-1): lang and title come from the HTML."""
    shared = pipeline()
    document = weasyprint.HTML(
        string=certificate_html(certificate),
        base_url=base_url(),
        url_fetcher=LocalOnlyURLFetcher(),
    )
    return document.write_pdf(
        pdf_variant=PDF_VARIANT, font_config=shared.font_config, stylesheets=[shared.stylesheet]
    )
