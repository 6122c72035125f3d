"""What a learner may upload as evidence, judged from the bytes, never from the name.

A file named .pdf that is really HTML or an executable would be served back to
a trainer's browser: the type comes from magic bytes (filetype), and office
documents, which are all zip files, are told apart by the zip's own entries.
"""

import zipfile
import zlib
from dataclasses import dataclass

import filetype
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

MAX_UPLOAD_BYTES = 10 * 1024 * 1024

SIMPLE_TYPES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
}

OPENDOCUMENT_TYPES = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}

# The part of an Office Open XML package that says what it is.
OOXML_MAIN_PARTS = {
    "word/document.xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
    "xl/workbook.xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    "ppt/presentation.xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
    ),
}


class UploadRefused(ValueError):
    """`str(error)` is the message to show the learner."""


@dataclass(frozen=True)
class CheckedUpload:
    mime: str
    extension: str


MIMETYPE_BYTES = 100


def _office_type(upload: UploadedFile) -> CheckedUpload | None:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                # A few bytes only: the entry may be a 10 MB file that inflates to
                # gigabytes (a zip bomb), and the longest type named is 46 bytes.
                with archive.open("mimetype") as entry:
                    declared = entry.read(MIMETYPE_BYTES).decode("ascii", "replace").strip()
                if declared in OPENDOCUMENT_TYPES:
                    return CheckedUpload(declared, OPENDOCUMENT_TYPES[declared])
            if "[Content_Types].xml" in names:
                for part, (mime, extension) in OOXML_MAIN_PARTS.items():
                    if part in names:
                        return CheckedUpload(mime, extension)
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, ValueError, zlib.error):
        # A damaged archive (corrupt or truncated deflate data, a directory offset past
        # its start: « negative seek value ») is simply not an office document.
        return None
    finally:
        upload.seek(0)
    return None


def check_upload(upload: UploadedFile) -> CheckedUpload:
    """The upload's real type, or `UploadRefused` saying why it cannot be accepted."""
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise UploadRefused(_("The file is larger than 10 MB."))
    if not upload.size:
        raise UploadRefused(_("The file is empty."))
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None and kind.mime in SIMPLE_TYPES:
        return CheckedUpload(kind.mime, SIMPLE_TYPES[kind.mime])
    if head.startswith(b"PK\x03\x04"):
        office = _office_type(upload)
        if office is not None:
            return office
    raise UploadRefused(
        _(
            "This file type is not accepted. Send a PDF, an image (PNG, JPEG, WebP) or an "
            "office document (docx, xlsx, pptx, odt, ods, odp); SVG, web pages and programs "
            "are refused."
        )
    )
