"""The demo accounts hold what the README promises, however the commits fall."""

from certification import demo as certification_demo
from certification.models import Award, Certificate
from courses import demo as courses_demo
from learners import demo as learners_demo
from learners.models import LedgerEntry, ModuleCompletion, User


def seed_as_seed_demo_commits(django_capture_on_commit_callbacks) -> int:
    """`seed_demo` in autocommit: what learners' demo sets off on commit runs
    before the certification demo creates the awards, not after."""
    with django_capture_on_commit_callbacks(execute=True):
        created = courses_demo.seed() + learners_demo.seed()
    with django_capture_on_commit_callbacks(execute=True):
        created += certification_demo.seed()
    return created


def kinds_held(email: str) -> dict[str, str]:
    learner = User.objects.get(email=email)
    return {
        certificate.award.kind: certificate.award.title
        for certificate in Certificate.objects.for_holder(learner).valid().select_related("award")
    }


def test_the_demo_facilitator_holds_a_module_and_a_block_attestation(
    db, django_capture_on_commit_callbacks
):
    seed_as_seed_demo_commits(django_capture_on_commit_callbacks)
    camille = User.objects.get(email=learners_demo.DEMO_LEARNER)
    completed = ModuleCompletion.objects.get(learner=camille).module
    held = kinds_held(learners_demo.DEMO_LEARNER)
    assert set(held) == {"module", "block"}
    assert held["module"] == f"Attestation de réussite — {completed.title}"
    assert "Culture tiers-lieux et immersion" in held["module"]
    module_certificate = Certificate.objects.get(learner=camille, award__kind="module")
    assert module_certificate.pdf and module_certificate.pdf_sha256


def test_the_demo_agent_holds_the_awareness_track_attestations(
    db, django_capture_on_commit_callbacks
):
    seed_as_seed_demo_commits(django_capture_on_commit_callbacks)
    assert set(kinds_held("agent@example.org")) == {"awareness", "end_of_training", "completion"}
    for email in ("formateur@example.org", "referente@example.org", "admin@example.org"):
        assert kinds_held(email) == {}


def test_a_second_demo_seeding_issues_nothing_more(db, django_capture_on_commit_callbacks):
    seed_as_seed_demo_commits(django_capture_on_commit_callbacks)
    counts = [model.objects.count() for model in (Award, Certificate, LedgerEntry)]
    assert seed_as_seed_demo_commits(django_capture_on_commit_callbacks) == 0
    assert [model.objects.count() for model in (Award, Certificate, LedgerEntry)] == counts
