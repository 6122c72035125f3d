"""A learner enrols in a new track, does two lessons and finds her progress on « Mon parcours ».

The demo facilitator already follows the facilitator track: she enrols here in
the public agents' awareness track, which the catalogue offers to anyone.
"""

from courses.models import LessonPage, ModulePage, TrackPage
from learners.models import Enrolment, LessonProgress, User
from learners.queries import track_progress

DEMO_PASSWORD = "campus-demo"
FACILITATOR = "facilitatrice@example.org"
AWARENESS_TRACK = "sensibilisation-agents-publics"


def test_a_facilitator_enrols_in_a_track_does_two_lessons_and_resumes_from_her_dashboard(
    demo, page, log_in
):
    learner = User.objects.get(email=FACILITATOR)
    track = TrackPage.objects.get(slug=AWARENESS_TRACK)
    assert not Enrolment.objects.active().filter(learner=learner, track=track).exists()
    first_module = ModulePage.objects.live().child_of(track).order_by("path").first()
    first, second = LessonPage.objects.live().child_of(first_module).order_by("path")[:2]

    log_in(page, FACILITATOR, DEMO_PASSWORD)
    page.goto(track.url)
    page.click("#enrol-button")
    page.wait_for_selector("[data-testid=leave]")
    enrolment = Enrolment.objects.active().get(learner=learner, track=track)

    page.goto(first.url)
    page.click("#mark-lesson-done")
    # Done, the learner is sent on to the next lesson of the module.
    page.wait_for_url(f"**{second.url}")
    page.click("#mark-lesson-done")
    page.wait_for_load_state()
    assert set(
        LessonProgress.objects.filter(learner=learner).values_list("lesson_id", flat=True)
    ) >= {first.pk, second.pk}

    page.goto("/moi/parcours/")
    card = page.locator(f"[data-testid=track-enrolment][data-enrolment='{enrolment.pk}']")
    assert track.title in card.locator("h3").inner_text()
    percent = int(card.locator("[data-testid=progress-percent]").inner_text().rstrip(" %"))
    progress = track_progress(learner, track)
    assert 0 < percent < 100
    assert percent == progress.percent
    resume = card.locator(f"[data-testid=resume-enrolment-{enrolment.pk}]")
    next_lesson = progress.next_lesson
    assert next_lesson is not None and next_lesson.pk not in (first.pk, second.pk)
    assert resume.get_attribute("href") == next_lesson.url
    resume.click()
    page.wait_for_url(f"**{next_lesson.url}")
    assert page.locator("h1").first.inner_text().strip() == next_lesson.title
