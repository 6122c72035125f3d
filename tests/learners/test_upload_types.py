"""Every evidence type the upload field announces is accepted, judged from real bytes."""

import io
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from learners import assessments, services
from learners.models import Submission
from learners.uploads import UploadRefused, check_upload
from tests.learners.quiz_helpers import set_quiz


def image(format_name: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 80, 40)).save(buffer, format=format_name)
    return buffer.getvalue()


def ooxml(main_part: str) -> bytes:
    """A minimal Office Open XML package: the content types and the main part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(main_part, '<?xml version="1.0"?><root/>')
    return buffer.getvalue()


def opendocument(mime: str) -> bytes:
    """A minimal OpenDocument package: `mimetype` first and stored, as the format asks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", mime, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
        archive.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest/>')
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    # The browser's claimed type is deliberately wrong: only the bytes count.
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


ODT = "application/vnd.oasis.opendocument.text"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


@pytest.mark.parametrize(
    ("name", "content", "mime", "extension"),
    [
        ("photo.jpg", image("JPEG"), "image/jpeg", "jpg"),
        ("photo.webp", image("WEBP"), "image/webp", "webp"),
        ("budget.xlsx", ooxml("xl/workbook.xml"), XLSX, "xlsx"),
        ("support.pptx", ooxml("ppt/presentation.xml"), PPTX, "pptx"),
        ("compte-rendu.odt", opendocument(ODT), ODT, "odt"),
    ],
)
def test_jpeg_webp_xlsx_pptx_and_odt_are_accepted(name, content, mime, extension):
    checked = check_upload(upload(name, content))
    assert (checked.mime, checked.extension) == (mime, extension)


def test_the_type_comes_from_the_bytes_not_the_name():
    assert check_upload(upload("tableau.pdf", ooxml("xl/workbook.xml"))).extension == "xlsx"
    assert check_upload(upload("image.png", image("JPEG"))).extension == "jpg"


@pytest.mark.parametrize(
    "content",
    [
        ooxml("word/unknown.xml"),  # an OOXML package with no known main part
        opendocument("application/vnd.oasis.opendocument.graphics"),  # odg: not offered
        opendocument("text/html"),
    ],
)
def test_zip_containers_that_are_not_an_accepted_office_document_are_refused(content):
    with pytest.raises(UploadRefused):
        check_upload(upload("document.odt", content))


def test_a_zip_bomb_posing_as_an_opendocument_is_refused_without_being_inflated():
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("mimetype", "w") as entry,
    ):
        entry.write(ODT.encode())
        for _ in range(100):
            entry.write(bytes(1024 * 1024))  # 100 MB of zeros, some 100 KB compressed
    assert len(buffer.getvalue()) < 1024 * 1024

    tracemalloc.start()
    try:
        with pytest.raises(UploadRefused):
            check_upload(upload("compte-rendu.odt", buffer.getvalue()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 5 * 1024 * 1024


def test_an_open_answer_keeps_an_attached_spreadsheet_as_what_it_is(client, journey, camille):
    services.enrol(camille, journey.track)
    module = set_quiz(
        journey.basics,
        [{"type": "open", "competence": "B1.1", "level": "appliquer", "text": "Votre budget ?"}],
    )
    attempt = assessments.start_attempt(camille, module)
    qid = attempt.questions[0]["id"]
    client.force_login(camille)
    response = client.post(
        reverse("learners:quiz_take", args=[attempt.pk]),
        {
            f"q-{qid}": "Voici le budget.",
            f"q-{qid}-file": upload("budget.bin", ooxml("xl/workbook.xml")),
        },
    )
    assert response.status_code == 302
    submission = Submission.objects.get(learner=camille)
    assert submission.file_type == XLSX
    assert submission.file.name.endswith(".xlsx")
    assert submission.file_name == "budget.bin"


def test_a_damaged_office_archive_is_refused_not_a_server_error():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", ODT * 50)
        archive.writestr("content.xml", "<x/>")
    document = bytearray(buffer.getvalue())
    start = document.index(b"mimetype") + len(b"mimetype")
    document[start + 5 : start + 40] = b"\xff" * 35  # corrupt the deflated bytes

    with pytest.raises(UploadRefused):
        check_upload(upload("compte-rendu.odt", bytes(document)))


def test_an_archive_whose_directory_points_before_its_start_is_refused_in_french():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", ODT)
        archive.writestr("content.xml", "<x/>")
    document = bytearray(buffer.getvalue())
    # The end record's offset of the central directory, pushed past the file's start:
    # every entry then lies at a negative position (« negative seek value »).
    end = document.rindex(b"PK\x05\x06")
    document[end + 16 : end + 20] = (len(document) + 1000).to_bytes(4, "little")

    with pytest.raises(UploadRefused) as refused:
        check_upload(upload("compte-rendu.odt", bytes(document)))

    assert "seek" not in str(refused.value)


def browser_multipart(texts: dict[str, str], empty_files: list[str]) -> tuple[bytes, str]:
    """A form as a browser sends it: a part for every file field, even one left empty."""
    boundary = "----campusBoundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in texts.items()
    ] + [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n"
        for name in empty_files
    ]
    body = "".join(parts) + f"--{boundary}--\r\n"
    return body.encode(), f"multipart/form-data; boundary={boundary}"


def test_a_quiz_of_twelve_open_questions_accepting_files_is_sent_with_no_file_attached(
    client, journey, camille
):
    services.enrol(camille, journey.track)
    question = {"type": "open", "competence": "B1.1", "level": "appliquer", "allow_file": True}
    module = set_quiz(journey.basics, [{**question, "text": f"Q{n}"} for n in range(12)])
    attempt = assessments.start_attempt(camille, module)
    ids = [q["id"] for q in attempt.questions]
    body, content_type = browser_multipart(
        {f"q-{qid}": "Ma réponse" for qid in ids}, [f"q-{qid}-file" for qid in ids]
    )
    client.force_login(camille)

    response = client.post(
        reverse("learners:quiz_take", args=[attempt.pk]), body, content_type=content_type
    )

    assert response.status_code == 302
    assert Submission.objects.filter(learner=camille).count() == 12
