"""axe-core on every page type, for every role, on the demo content.

One test per role: it logs in once and audits its list of pages in one browser
context. Violations of impact « serious » or « critical » fail; the others are
printed (run with -s to read them). Each page must also reflow at 320 CSS px.
"""

import pytest

from certification.models import Certificate
from courses.models import LessonPage, ModulePage, TrackPage
from learners.models import Submission, User
from tests.browser.a11y import audit_pages, page_problems

DEMO_PASSWORD = "campus-demo"
FACILITATORS_TRACK = "piloter-un-tiers-lieu"
AGENTS_TRACK = "sensibilisation-agents-publics"


def modules_of(track: TrackPage) -> list[ModulePage]:
    return list(ModulePage.objects.live().child_of(track).order_by("path"))


def public_urls() -> list[str | tuple[str, int]]:
    track = TrackPage.objects.get(slug=FACILITATORS_TRACK)
    module = modules_of(track)[0]
    lesson = LessonPage.objects.live().child_of(module).first()
    certificate = Certificate.objects.filter(status=Certificate.Status.VALID).first()
    return [
        "/",
        "/catalogue/",
        f"/catalogue/?q=gouvernance&block={module.targets.first().competence.block.code}",
        "/catalogue/?q=aucun-module-ne-parle-de-cela",
        track.get_url(),
        module.get_url(),
        lesson.get_url(),
        TrackPage.objects.get(slug=AGENTS_TRACK).get_url(),
        "/referentiels/RS5142/",
        "/accessibilite/",
        "/mentions-legales/",
        "/confidentialite/",
        "/comptes/login/",
        "/comptes/signup/",
        "/comptes/password/reset/",
        "/agents/inscription/",
        "/verify/",
        f"/verify/{certificate.code}/",
        ("/verify/AAAA-BBBB-CCCC-DDDD/", 404),
        ("/cette-page-n-existe-pas/", 404),
    ]


def learner_urls() -> list[str]:
    return ["/moi/parcours/", "/moi/profil/", "/moi/donnees/", "/moi/donnees/supprimer/"]


def facilitator_urls() -> list[str]:
    track = TrackPage.objects.get(slug=FACILITATORS_TRACK)
    first, second = modules_of(track)[:2]
    return [
        *learner_urls(),
        track.get_url(),
        second.get_url(),
        f"/moi/modules/{first.pk}/quiz/",
        f"/moi/modules/{second.pk}/quiz/",
    ]


def trainer_urls() -> list[str]:
    learner = User.objects.get(email="facilitatrice@example.org")
    submission = Submission.objects.filter(status="pending").first()
    module = modules_of(TrackPage.objects.get(slug=FACILITATORS_TRACK))[0]
    return [
        "/moi/parcours/",
        "/moi/apprenants/",
        f"/moi/apprenants/{learner.pk}/",
        "/moi/evaluations/",
        f"/moi/evaluations/{submission.pk}/",
        f"/moi/modules/{module.pk}/resultats/",
        module.get_url(),
    ]


def agent_urls() -> list[str]:
    return [*learner_urls(), TrackPage.objects.get(slug=AGENTS_TRACK).get_url()]


def manager_urls() -> list[str]:
    return [
        "/moi/parcours/",
        "/organisation/",
        "/organisation/inviter/",
        "/moi/organisation/quitter/",
    ]


def staff_urls() -> list[str]:
    return ["/territoires/", "/territoires/?region=75", "/moi/parcours/"]


def quiz_problems(page) -> list[str]:
    """A quiz from start to result, its error states included, and the positioning test."""
    track = TrackPage.objects.get(slug=FACILITATORS_TRACK)
    second = modules_of(track)[1]
    page.goto(f"/moi/modules/{second.pk}/quiz/")
    page.click("#quiz-start")
    page.wait_for_url("**/moi/quiz/*/")
    problems = page_problems(page, "quiz, unanswered")
    # Submitting nothing shows the error summary and the errors next to each question.
    page.click("#quiz-submit")
    page.wait_for_selector("#error-summary")
    problems += page_problems(page, "quiz, errors")
    for fieldset in page.locator("fieldset.question").all():
        kind = fieldset.get_attribute("data-question-type")
        if kind in ("single_choice", "true_false", "multiple_choice"):
            fieldset.locator("input").first.check()
        elif kind == "ordering":
            for position, select in enumerate(fieldset.locator("select").all(), start=1):
                select.select_option(str(position))
        else:
            fieldset.locator("input[type=text], textarea").first.fill("consentement")
    page.click("#quiz-submit")
    page.wait_for_url("**/resultat/")
    problems += page_problems(page, "quiz result")
    # The positioning test of the track: questions and a self-assessment.
    page.goto(f"/moi/parcours/{track.pk}/positionnement/")
    problems += page_problems(page, "positioning")
    return problems


ROLES = {
    "facilitator": ("facilitatrice@example.org", facilitator_urls),
    "trainer": ("formateur@example.org", trainer_urls),
    "public_agent": ("agent@example.org", agent_urls),
    "manager": ("referente@example.org", manager_urls),
    "staff": ("admin@example.org", staff_urls),
}


def test_the_audit_catches_what_it_must(page):
    # Guards the harness: a page with known faults must fail, axe really runs.
    page.goto("/cette-page-n-existe-pas/")
    page.evaluate(
        """document.querySelector("main").insertAdjacentHTML("beforeend",
            '<img src="/x.png"><a href="/x/"></a><p style="color:#bbb">Gris</p>'
            + '<pre style="width:600px">large</pre>')"""
    )
    problems = "\n".join(page_problems(page, "faulty page"))
    for rule in ("image-alt", "link-name", "color-contrast", "reflow"):
        assert rule in problems


def test_public_pages_have_no_serious_violation(demo, page):
    assert audit_pages(page, public_urls()) == []


@pytest.mark.parametrize("role", ROLES)
def test_each_role_s_pages_have_no_serious_violation(demo, page, log_in, role):
    email, urls = ROLES[role]
    log_in(page, email, DEMO_PASSWORD)
    problems = audit_pages(page, urls())
    if role == "facilitator":
        # In the same test: one demo seeding less (each takes some ten seconds).
        problems += quiz_problems(page)
    assert problems == []
