"""A trainer writes a module in Wagtail's admin; the operating team reviews and publishes it.

Wagtail's admin is translated by Wagtail itself: elements are found by ids, names
and data attributes, and the one label we must click (the block type) accepts
either language.
"""

import re

from playwright.sync_api import expect
from wagtail.models import WorkflowState

from courses.models import Competence, LessonPage, ModulePage, TrackPage

DEMO_PASSWORD = "campus-demo"
TRAINER = "formateur@example.org"
STAFF = "admin@example.org"
MODULE_TITLE = "Animer une première réunion publique"
LESSON_TITLE = "Préparer la salle et l'ordre du jour"
# A competence the new module targets, and one it does not, for the catalogue facets.
TARGETED, NOT_TARGETED = "B2.1", "B1.1"
# Wagtail's admin can be slow on its first page; still a bounded wait.
ADMIN_TIMEOUT_MS = 20_000


def open_more_actions(page) -> None:
    page.click("footer nav.actions .w-dropdown__toggle")


def type_rich_text(page, container: str, field: str, text: str) -> None:
    editor = page.locator(f"{container} .public-DraftEditor-content").first
    editor.click()
    editor.press_sequentially(text)
    editor.evaluate("element => element.blur()")
    # Draftail copies its state to the hidden input a moment later (and on blur):
    # submitting before that would save an empty paragraph.
    expect(page.locator(f"{container} input[name={field}]")).to_have_value(
        re.compile(re.escape(text))
    )


def submit_for_review(page) -> None:
    open_more_actions(page)
    page.click("footer button[name=action-submit]")
    page.wait_for_url(lambda url: "/add/" not in url, timeout=ADMIN_TIMEOUT_MS)


def approve(page, page_id: int) -> None:
    page.goto(f"/cms-admin/pages/{page_id}/edit/", timeout=ADMIN_TIMEOUT_MS)
    open_more_actions(page)
    # The plain "approve" (the other one opens a dialog for a comment).
    page.click("footer [data-workflow-action-name=approve]:not([data-workflow-action-modal-url])")
    page.wait_for_load_state()


def write_module(page, track: TrackPage, competence: Competence) -> ModulePage:
    page.goto(f"/cms-admin/pages/add/courses/modulepage/{track.pk}/", timeout=ADMIN_TIMEOUT_MS)
    page.fill("#id_title", MODULE_TITLE)
    page.fill("#id_summary", "Réunir les habitants et recueillir leurs envies.")
    type_rich_text(
        page,
        "#panel-child-contenu-objectives-content",
        "objectives",
        "Conduire une réunion de 90 minutes.",
    )
    page.fill("#id_duration_minutes", "60")
    page.select_option("#id_targets-0-competence", str(competence.pk))
    level = competence.block.framework.levels.get(rank=2)
    page.select_option("#id_targets-0-target_level", str(level.pk))
    submit_for_review(page)
    return ModulePage.objects.get(title=MODULE_TITLE)


def write_lesson(page, module: ModulePage) -> LessonPage:
    page.goto(f"/cms-admin/pages/add/courses/lessonpage/{module.pk}/", timeout=ADMIN_TIMEOUT_MS)
    page.fill("#id_title", LESSON_TITLE)
    # An empty StreamField offers one "+" button; its menu lists the block types.
    page.locator("#panel-child-contenu-body-content .c-sf-add-button").first.click()
    page.get_by_role("option", name=re.compile("Rich text|Texte enrichi")).click()
    type_rich_text(
        page, "#panel-child-contenu-body-content", "body-0-value", "Choisir une salle accessible."
    )
    submit_for_review(page)
    return LessonPage.objects.get(title=LESSON_TITLE)


def test_a_trainer_writes_a_module_that_staff_review_and_publish_to_the_catalogue(
    demo, new_page, log_in
):
    track = TrackPage.objects.get(slug="piloter-un-tiers-lieu")
    competence = Competence.objects.get(code=TARGETED, block__framework=track.framework)

    trainer = new_page()
    log_in(trainer, TRAINER, DEMO_PASSWORD)
    trainer.goto("/cms-admin/", timeout=ADMIN_TIMEOUT_MS)
    assert trainer.url.endswith("/cms-admin/")
    module = write_module(trainer, track, competence)
    lesson = write_lesson(trainer, module)

    assert module.owner.email == TRAINER
    assert module.targets.get().competence == competence
    assert "Conduire une réunion de 90 minutes." in module.objectives
    assert "Choisir une salle accessible" in str(lesson.body)
    for draft in (module, lesson):
        assert not draft.live
        state = WorkflowState.objects.for_instance(draft).get()
        assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert MODULE_TITLE not in trainer.goto("/catalogue/").text()

    staff = new_page()
    log_in(staff, STAFF, DEMO_PASSWORD)
    approve(staff, module.pk)
    approve(staff, lesson.pk)
    module.refresh_from_db()
    lesson.refresh_from_db()
    assert module.live and lesson.live

    staff.goto(f"/catalogue/?competence={TARGETED}")
    assert MODULE_TITLE in staff.inner_text("main")
    staff.goto(f"/catalogue/?competence={NOT_TARGETED}")
    assert MODULE_TITLE not in staff.inner_text("main")
    staff.goto(module.url)
    assert LESSON_TITLE in staff.inner_text("main")
