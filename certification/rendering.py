"""Turn a certificate's frozen context into a tagged PDF, with nothing fetched from outside.

The template, its CSS and the fonts under static/fonts/ are the only inputs
besides the context: a certificate rendered again in five years looks the same.
"""

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import segno
import weasyprint
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from certification.models import Certificate

TEMPLATE = "certification/certificate.html"


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


def verification_url(certificate: Certificate) -> str:
    return settings.SITE_URL + reverse("certification:verify", kwargs={"code": certificate.code})


def qr_code_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(dark="#1f2a44", border=0, scale=4)


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
    document = weasyprint.HTML(
        string=certificate_html(certificate),
        # Relative URLs in the template (fonts) resolve under static/.
        base_url=str(static_root()) + "/",
        url_fetcher=LocalOnlyURLFetcher(),
    )
    return document.write_pdf(pdf_variant="pdf/ua-1")
