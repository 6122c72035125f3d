"""Every lesson block renders with its own template and previews in the admin."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file

from courses.blocks import LessonStreamBlock

BLOCK_NAMES = [
    "heading",
    "paragraph",
    "image",
    "video",
    "document",
    "callout",
    "case_study",
    "activity",
]


def test_the_lesson_stream_offers_every_block_the_issue_names():
    assert list(LessonStreamBlock().child_blocks) == BLOCK_NAMES


@pytest.mark.parametrize("name", BLOCK_NAMES)
def test_each_block_has_an_icon_a_template_and_a_preview(db, name):
    block = LessonStreamBlock().child_blocks[name]
    assert block.meta.icon
    assert block.get_template(None).startswith("courses/blocks/")
    assert block.is_previewable
    block.render(block.get_preview_value())  # renders even with an empty media library


def test_media_blocks_preview_with_what_the_library_holds(db):
    image = get_image_model().objects.create(title="Gare", file=get_test_image_file())
    document = get_document_model().objects.create(
        title="Convention", file=SimpleUploadedFile("convention.pdf", b"%PDF-1.4 test")
    )
    blocks = LessonStreamBlock().child_blocks
    image_html = blocks["image"].render(blocks["image"].get_preview_value())
    document_html = blocks["document"].render(blocks["document"].get_preview_value())
    assert 'alt="Façade d&#x27;un tiers-lieu en centre-bourg"' in image_html
    assert image.title  # the preview uses the library's newest image
    assert document.url in document_html


def test_the_admin_previews_a_lesson_block_with_the_site_stylesheet(client, staff):
    from courses.models import LessonPage

    callout = LessonPage.body.field.stream_block.child_blocks["callout"]
    client.force_login(staff)
    response = client.get("/cms-admin/block-preview/", {"id": callout.definition_prefix})
    assert response.status_code == 200
    html = response.content.decode()
    assert "css/campus.css" in html
    assert 'class="callout"' in html
