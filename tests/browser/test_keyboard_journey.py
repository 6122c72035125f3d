"""A keyboard-only journey, from the login form to a passed quiz.

No mouse: only Tab, Shift+Tab, Enter, Space, arrow keys and typing. `page.goto`
opens the first page only. The right answers come from the attempt's frozen
questions, read in the database once the quiz has started.
"""

from courses.models import ModulePage, TrackPage
from learners.assessments import item_field
from learners.models import Attempt, User

DEMO_PASSWORD = "campus-demo"
FACILITATOR = "facilitatrice@example.org"
FACILITATORS_TRACK = "piloter-un-tiers-lieu"
# Bounds on Tab presses: a page whose target is further away fails, it does not hang.
MAX_TABS = 80


def focused_matches(page, selector: str) -> bool:
    return page.evaluate("s => document.activeElement?.matches(s) ?? false", selector)


def tab_to(page, selector: str, *, key: str = "Tab") -> None:
    """Press Tab (or Shift+Tab) until the focused element matches `selector`."""
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        if focused_matches(page, selector):
            return
    raise AssertionError(f"{selector} never got the focus after {MAX_TABS} presses of {key}")


def focus_ring(page) -> dict:
    """The computed outline of the focused element, and whether it is :focus-visible."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {
                visible: el.matches(':focus-visible'),
                style: style.outlineStyle,
                width: parseFloat(style.outlineWidth),
            };
        }"""
    )


def assert_focus_visible(page) -> None:
    ring = focus_ring(page)
    assert ring["visible"] and ring["style"] != "none" and ring["width"] >= 2, ring


def right_positions(question: dict) -> dict[str, int]:
    """Ordering questions: each item's field and its right position (1 is first)."""
    in_order = sorted(question["items"], key=lambda item: int(item["key"]))
    base = f"q-{question['id']}"
    return {item_field(base, item): position for position, item in enumerate(in_order, start=1)}


def answer(page, question: dict) -> None:
    field = f"q-{question['id']}"
    kind = question["type"]
    if kind in ("single_choice", "true_false"):
        # Tab enters the radio group on its first option; Space ticks it and each
        # arrow press moves the choice one option down.
        options = question["options"]
        right = next(i for i, option in enumerate(options) if option["correct"])
        tab_to(page, f"input[type=radio][name='{field}']")
        assert_focus_visible(page)
        page.keyboard.press("Space")
        for _ in range(right):
            page.keyboard.press("ArrowDown")
        checked = page.evaluate(
            "n => document.querySelector(`input[name='${n}']:checked`).value", field
        )
        assert checked == options[right]["key"]
    elif kind == "multiple_choice":
        for option in question["options"]:
            if option["correct"]:
                tab_to(page, f"#{field}-{option['key']}")
                page.keyboard.press("Space")
    elif kind in ("short_answer", "numeric"):
        tab_to(page, f"#{field}")
        text = (
            question["accepted_answers"][0] if kind == "short_answer" else str(question["answer"])
        )
        page.keyboard.type(text)
    elif kind == "ordering":
        # A closed select changes its value with the arrow keys; its first option is a prompt.
        for item_id, position in right_positions(question).items():
            tab_to(page, f"#{item_id}")
            for _ in range(position):
                page.keyboard.press("ArrowDown")
            assert page.evaluate("s => document.querySelector(s).value", f"#{item_id}") == str(
                position
            )
    else:
        raise AssertionError(f"the demo quiz has a {kind} question this journey cannot answer")


def test_a_facilitator_passes_a_quiz_with_the_keyboard_only(demo, page, live_server):
    track = TrackPage.objects.get(slug=FACILITATORS_TRACK)
    # The demo facilitator passed the first module's quiz; the second one is open to her.
    module = ModulePage.objects.live().child_of(track).order_by("path")[1]
    learner = User.objects.get(email=FACILITATOR)

    page.goto("/comptes/login/")
    # The skip link comes first, shows itself when focused, and leads to the main content.
    page.keyboard.press("Tab")
    assert focused_matches(page, "a.skip-link[href='#contenu']")
    assert_focus_visible(page)
    assert page.evaluate("document.activeElement.getBoundingClientRect().left") >= 0
    page.keyboard.press("Enter")
    assert focused_matches(page, "main#contenu")

    tab_to(page, "#id_login")
    assert_focus_visible(page)
    page.keyboard.type(FACILITATOR)
    tab_to(page, "#id_password")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/moi/parcours/")

    # From « Mon parcours » to the module, then to its quiz.
    tab_to(page, f"main a[href='{module.get_url()}']")
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{module.get_url()}")
    tab_to(page, "#quiz-link")
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/moi/modules/{module.pk}/quiz/")
    tab_to(page, "#quiz-start")
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_url("**/moi/quiz/*/")

    attempt = Attempt.objects.get(learner=learner, module=module, status=Attempt.Status.IN_PROGRESS)
    assert page.url.endswith(f"/moi/quiz/{attempt.pk}/")
    for question in attempt.questions:
        answer(page, question)
    tab_to(page, "#quiz-submit")
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/moi/quiz/{attempt.pk}/resultat/")

    result = page.locator("[data-testid=quiz-result]")
    assert result.get_attribute("data-passed") == "true"
    assert result.get_attribute("data-score") == "100"
    assert "réussi" in result.inner_text()
    attempt.refresh_from_db()
    assert attempt.passed and attempt.score == 100

    # Shift+Tab walks back through the page as well: from the footer to the result's links.
    tab_to(page, "footer a")
    tab_to(page, "[data-testid=back-to-quiz]", key="Shift+Tab")
    assert_focus_visible(page)
