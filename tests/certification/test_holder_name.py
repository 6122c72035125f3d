"""A certificate prints its holder's name: never the sign-in address, which would then
be public on the verification page and in the badge. A learner with no name is issued
nothing until she gives one, and then everything she earned meanwhile."""

import pytest
from django.urls import reverse

from certification import services
from certification.models import BulkIssue, Certificate
from learners.models import User
from tests.certification.conftest import complete_module, reach
from tests.conftest import make_user, signed_in_just_now


@pytest.fixture
def nameless(db) -> User:
    return make_user("agent.perso@example.org", "", role=User.Role.FACILITATOR)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def test_a_learner_with_no_name_is_issued_nothing_and_is_told_why(
    client, setting, nameless, run_on_commit
):
    run_on_commit(complete_module, nameless, setting.basics)

    assert not Certificate.objects.filter(learner=nameless).exists()
    client.force_login(nameless)
    page = client.get(reverse("learners:dashboard")).content.decode()
    assert 'data-testid="certificates-need-a-name"' in page


def test_giving_a_name_issues_what_was_earned_meanwhile_under_that_name(
    client, setting, nameless, run_on_commit
):
    run_on_commit(complete_module, nameless, setting.basics)
    run_on_commit(reach, nameless, setting.framework, "B1.1", 2)
    run_on_commit(reach, nameless, setting.framework, "B1.2", 2)
    signed_in_just_now(client, nameless)

    run_on_commit(
        client.post, reverse("learners:profile"), {"full_name": "Nadia Benali", "job_title": ""}
    )

    awarded = Certificate.objects.filter(learner=nameless)
    assert {c.award for c in awarded} == {setting.module_award, setting.block_award}
    assert {c.context["holder"]["name"] for c in awarded} == {"Nadia Benali"}
    assert all("agent.perso" not in str(c.context) for c in awarded)
    page = client.get(reverse("learners:dashboard")).content.decode()
    assert 'data-testid="certificates-need-a-name"' not in page


def test_bulk_issue_leaves_a_nameless_learner_for_later(
    client, setting, camille, nameless, staff, run_on_commit
):
    for learner in (camille, nameless):
        complete_module(learner, setting.basics)

    job = run_on_commit(services.start_bulk, setting.module_award, staff)

    job.refresh_from_db()
    assert job.status == BulkIssue.Status.DONE and job.deferred == 1
    assert list(Certificate.objects.values_list("learner", flat=True)) == [camille.pk]
    client.force_login(staff)
    progress = client.get(reverse("certification:bulk_progress", args=[job.pk])).content.decode()
    assert "ne donne aucun nom à imprimer" in progress


def test_a_name_erased_from_the_profile_is_no_reason_to_re_issue(setting, camille, run_on_commit):
    run_on_commit(complete_module, camille, setting.basics)
    certificate = Certificate.objects.get(learner=camille, award=setting.module_award)
    User.objects.filter(pk=camille.pk).update(full_name="")

    with pytest.raises(services.HolderNameMissing):
        services.reissue(certificate, by=None)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


def test_a_name_given_by_anyone_else_issues_what_waited_too(setting, nameless, run_on_commit):
    run_on_commit(complete_module, nameless, setting.basics)
    account = User.objects.get(pk=nameless.pk)  # as loaded by the team's admin form
    account.full_name = "Nadia Benali"

    run_on_commit(account.save)

    [certificate] = Certificate.objects.filter(learner=nameless)
    assert certificate.context["holder"]["name"] == "Nadia Benali"


def test_a_session_attended_without_a_name_is_certified_once_she_gives_one(
    setting, nameless, staff, run_on_commit
):
    from learners.session_models import Attendance, HalfDay, Seat
    from tests.learners.attendance_helpers import add_half_day, at, make_session

    session = make_session(setting.track, learners=[nameless])
    morning = add_half_day(session, period=HalfDay.Period.MORNING)
    Attendance.objects.create(
        half_day=morning,
        learner=nameless,
        status=Attendance.Status.PRESENT,
        method=Attendance.Method.CODE,
        signed_at=at(morning.date, 9, 5),
    )
    assert Seat.objects.confirmed().filter(learner=nameless).exists()
    job = run_on_commit(
        services.start_bulk, setting.completion_award, staff, BulkIssue.Mode.ISSUE, session
    )
    job.refresh_from_db()
    assert job.deferred == 1 and not Certificate.objects.exists()

    account = User.objects.get(pk=nameless.pk)
    account.full_name = "Nadia Benali"
    run_on_commit(account.save)

    [certificate] = Certificate.objects.filter(learner=nameless)
    assert certificate.award == setting.completion_award


def test_a_name_held_in_memory_but_not_stored_issues_nothing(setting, nameless, run_on_commit):
    run_on_commit(complete_module, nameless, setting.basics)
    account = User.objects.get(pk=nameless.pk)
    account.full_name = "Nadia Benali"

    run_on_commit(account.save, update_fields=["job_title"])

    assert not Certificate.objects.filter(learner=nameless).exists()


def test_giving_a_name_issues_a_newer_framework_block_earned_through_its_crosswalks(
    setting, nameless, run_on_commit
):
    from certification.models import Award
    from courses.services import new_version

    newer = new_version(setting.framework, "2026")
    newer_block = Award.objects.create(
        kind=Award.Kind.BLOCK,
        title="Bloc B1 validé (2026)",
        criteria="Chaque compétence du bloc au niveau Appliquer.",
        block=newer.blocks.get(code="B1"),
    )
    run_on_commit(reach, nameless, setting.framework, "B1.1", 2)
    run_on_commit(reach, nameless, setting.framework, "B1.2", 2)
    assert not Certificate.objects.exists()

    account = User.objects.get(pk=nameless.pk)
    account.full_name = "Nadia Benali"
    run_on_commit(account.save)

    awarded = {c.award for c in Certificate.objects.filter(learner=nameless)}
    assert awarded == {setting.block_award, newer_block}


def test_a_learner_erased_after_being_loaded_is_issued_nothing(setting, camille, run_on_commit):
    from learners import services as learners_services

    complete_module(camille, setting.basics)  # earned, its signal not run yet
    loaded_by_a_bulk_chunk = User.objects.get(pk=camille.pk)
    run_on_commit(learners_services.erase_account, User.objects.get(pk=camille.pk))

    with pytest.raises(services.HolderErased):
        services.issue(loaded_by_a_bulk_chunk, setting.module_award, render=False)
    # What a signal's receiver does with such a copy: nothing, quietly.
    assert services.issue_if_eligible(loaded_by_a_bulk_chunk, [setting.module_award]) == []

    assert not Certificate.objects.filter(learner=camille).exists()
