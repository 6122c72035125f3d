"""axe-core on every page type, for every role, on the demo content.

One test per role: it logs in once and audits its list of pages in one browser
context. Violations of impact « serious » or « critical » fail; the others are
printed (run with -s to read them). Each page must also reflow at 320 CSS px.
"""

import datetime

import pytest
from django.utils import timezone

from certification.models import Certificate, EvidencePack
from courses.models import LessonPage, ModulePage, TrackPage
from learners import feedback
from learners.demo_quality import PAST_SESSION_TITLE
from learners.models import Submission, User
from learners.quality_models import ColdSurvey
from learners.session_models import Attendance, HalfDay, Seat, TrainingSession
from tests.browser.a11y import audit_pages, page_problems

DEMO_PASSWORD = "campus-demo"
FACILITATORS_TRACK = "piloter-un-tiers-lieu"
AGENTS_TRACK = "sensibilisation-agents-publics"


def modules_of(track: TrackPage) -> list[ModulePage]:
    return list(ModulePage.objects.live().child_of(track).order_by("path"))


def past_session() -> TrainingSession:
    return TrainingSession.objects.get(title=PAST_SESSION_TITLE)


def upcoming_session() -> TrainingSession:
    """The demo's on-site session, where the demo facilitator has a confirmed place."""
    return TrainingSession.objects.get(
        track__slug=FACILITATORS_TRACK,
        starts_on__gt=timezone.localdate(),
        seats__status=Seat.Status.CONFIRMED,
    )


def half_day_open_now() -> HalfDay:
    """A half-day of the demo's on-site session open all day today, for the pages that
    show an open half-day (the sessions themselves start in a few weeks)."""
    half_day, _ = HalfDay.objects.get_or_create(
        session=upcoming_session(),
        date=timezone.localdate(),
        period=HalfDay.Period.MORNING,
        defaults={"starts_at": datetime.time(0, 0), "ends_at": datetime.time(23, 59, 59)},
    )
    return half_day


def open_cold_survey() -> ColdSurvey:
    """An « à froid » survey still waiting for its answer (the demo's were all answered)."""
    answered = ColdSurvey.objects.exclude(answered_at=None).first()
    learner = User.objects.get(email="facilitatrice@example.org")
    survey, _ = ColdSurvey.objects.get_or_create(
        learner=learner,
        track=answered.track,
        defaults={"session": answered.session, "due_at": timezone.now(), "sent_at": timezone.now()},
    )
    return survey


def public_urls() -> list[str | tuple[str, int]]:
    track = TrackPage.objects.get(slug=FACILITATORS_TRACK)
    module = modules_of(track)[0]
    lesson = LessonPage.objects.live().child_of(module).first()
    certificate = Certificate.objects.filter(status=Certificate.Status.VALID).first()
    answered_survey = ColdSurvey.objects.exclude(answered_at=None).first()
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
        # Pages reached by a link in a mail, without logging in: the « à froid »
        # survey (to answer, then answered) and the funder's feedback form.
        f"/moi/satisfaction-a-froid/{open_cold_survey().token}/",
        f"/moi/satisfaction-a-froid/{answered_survey.token}/",
        f"/moi/retours/financeur/{feedback.funder_token(past_session())}/",
    ]


def learner_urls() -> list[str]:
    return [
        "/moi/parcours/",
        "/moi/profil/",
        "/moi/donnees/",
        "/moi/donnees/confirmer/",
        "/moi/donnees/supprimer/",
    ]


def facilitator_urls() -> list[str]:
    track = TrackPage.objects.get(slug=FACILITATORS_TRACK)
    first, second = modules_of(track)[:2]
    return [
        *learner_urls(),
        track.get_url(),
        second.get_url(),
        f"/moi/modules/{first.pk}/quiz/",
        f"/moi/modules/{second.pk}/quiz/",
        # Émargement: by the trainer's code, and by the learner's own link.
        "/moi/emargement/",
        f"/moi/emargement/{upcoming_session().seats.get().attendance_token}/",
        f"/moi/amenagement/{track.pk}/",
    ]


def trainer_urls() -> list[str]:
    learner = User.objects.get(email="facilitatrice@example.org")
    # Today's half-day is open and the facilitator signed it: her signature awaits
    # the trainer's confirmation, beside the buttons to record each learner.
    Attendance.objects.get_or_create(
        half_day=half_day_open_now(),
        learner=learner,
        defaults={
            "status": Attendance.Status.PRESENT,
            "method": Attendance.Method.LINK,
            "signed_at": timezone.now(),
        },
    )
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
        "/moi/formateur/sessions/",
        # On site and upcoming; online and over (with the learners' online activity).
        f"/moi/formateur/sessions/{upcoming_session().pk}/emargement/",
        f"/moi/formateur/sessions/{past_session().pk}/emargement/",
        # A new feedback, and the one the trainer already gave on the past session.
        f"/moi/retours/formateur/{upcoming_session().pk}/",
        f"/moi/retours/formateur/{past_session().pk}/",
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


def evidence_packs() -> list[EvidencePack]:
    """Packs of the past session being built, ready (with its SHA-256) and failed: the
    demo requests none, and each state shows its own block on the progress page."""
    admin = User.objects.get(email="admin@example.org")
    states = [
        {"status": EvidencePack.Status.BUILDING, "total": 12, "done": 5},
        {
            "status": EvidencePack.Status.DONE,
            "total": 12,
            "done": 12,
            "file": "evidence-packs/demo.zip",
            "sha256": "9f2c" * 16,
            "finished_at": timezone.now(),
        },
        {
            "status": EvidencePack.Status.FAILED,
            "total": 12,
            "done": 3,
            "error": "OSError: [Errno 28] No space left on device: '/srv/media/evidence-packs/'",
            "finished_at": timezone.now(),
        },
    ]
    packs = []
    for state in states:
        pack = EvidencePack.objects.filter(session=past_session(), status=state["status"]).first()
        packs.append(
            pack
            or EvidencePack.objects.create(
                session=past_session(), requested_by=admin, claimed_at=timezone.now(), **state
            )
        )
    return packs


def staff_urls() -> list[str]:
    return [
        "/territoires/",
        "/territoires/?region=75",
        "/moi/parcours/",
        *(f"/dossiers-de-preuves/{pack.pk}/" for pack in evidence_packs()),
    ]


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


def errors_problems(page, forms: list[tuple[str, str]]) -> list[str]:
    """Each form (its URL, its submit button) sent empty: the error summary and the
    errors next to each field must be as accessible as the blank form."""
    problems: list[str] = []
    for url, submit in forms:
        page.goto(url)
        page.click(submit)
        page.wait_for_selector("#error-summary")
        problems += page_problems(page, f"{url}, errors")
    return problems


def role_forms(role: str) -> list[tuple[str, str]]:
    if role == "facilitator":
        return [("/moi/emargement/", ".attendance-submit")]
    if role == "trainer":
        session = upcoming_session()
        return [(f"/moi/retours/formateur/{session.pk}/", "[data-testid=feedback-submit]")]
    return []


def signing_problems(page) -> list[str]:
    """The facilitator's personal link while a half-day is open, then her signature."""
    token = upcoming_session().seats.get().attendance_token
    half_day_open_now()
    page.goto(f"/moi/emargement/{token}/")
    problems = page_problems(page, "attendance link, half-day open")
    page.click(".attendance-submit")
    page.wait_for_selector("[data-testid=attendance-result]")
    return problems + page_problems(page, "attendance signed")


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
    problems = audit_pages(page, public_urls())
    problems += errors_problems(
        page,
        [
            (
                f"/moi/satisfaction-a-froid/{open_cold_survey().token}/",
                "[data-testid=cold-survey-submit]",
            ),
            (
                f"/moi/retours/financeur/{feedback.funder_token(past_session())}/",
                "[data-testid=feedback-submit]",
            ),
        ],
    )
    assert problems == []


@pytest.mark.parametrize("role", ROLES)
def test_each_role_s_pages_have_no_serious_violation(demo, page, log_in, role):
    email, urls = ROLES[role]
    log_in(page, email, DEMO_PASSWORD)
    problems = audit_pages(page, urls())
    problems += errors_problems(page, role_forms(role))
    if role == "facilitator":
        # In the same test: one demo seeding less (each takes some ten seconds).
        problems += quiz_problems(page)
        problems += signing_problems(page)
    assert problems == []
