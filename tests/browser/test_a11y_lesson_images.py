"""A lesson image, rendered 800 px wide, shrinks with the page at 320 CSS px (WCAG 1.4.10)."""

# Fixtures come from the modules that define them: imported, then named as arguments.
# ruff: noqa: F401, F811
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file

from courses.models import LessonPage
from tests.browser.a11y import NARROW, overflow_at_320px
from tests.learners.conftest import journey


def test_a_lesson_image_fits_a_320_px_screen_and_keeps_its_proportions(page, journey):
    image = get_image_model().objects.create(
        title="Atelier", file=get_test_image_file(size=(1600, 900))
    )
    lesson = LessonPage.objects.child_of(journey.basics).first().specific
    lesson.body = [
        ("image", {"image": image, "alt_text": "Un atelier partagé", "caption": "L'atelier"}),
        *[(child.block_type, child.value) for child in lesson.body],
    ]
    lesson.save_revision().publish()

    page.goto(lesson.url)
    assert page.locator("figure img").get_attribute("width") == "800"
    assert overflow_at_320px(page) == 0

    page.set_viewport_size(NARROW)
    box = page.locator("figure img").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"]
    assert round(box["width"] / box["height"], 1) == round(1600 / 900, 1)
