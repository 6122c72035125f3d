"""Staff issue or re-render an award for the learners of one training session."""

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Permission
from django.urls import reverse

from certification import services
from certification.models import Award, BulkIssue, Certificate
from certification.wagtail_hooks import session_bulk_button
from learners.models import ModuleCompletion, User
from learners.session_models import Seat
from tests.conftest import make_user
from tests.learners.attendance_helpers import make_session
from tests.learners.factories import make_track


@pytest.fixture
def people(setting) -> list[User]:
    """Nine learners; the first six completed « Les bases »."""
    people = [make_user(f"learner{n}@example.org", f"Apprenant {n}") for n in range(9)]
    for person in people[:6]:
        ModuleCompletion.objects.create(learner=person, module=setting.basics)
    return people


@pytest.fixture
def session(setting, people):
    """Confirmed seats for two graduates and one who did not finish; a graduate who
    cancelled and one on the waiting list; the other graduates are in no session."""
    session = make_session(setting.track, learners=[people[0], people[1], people[7]])
    Seat.objects.create(session=session, learner=people[2], status=Seat.Status.CANCELLED)
    Seat.objects.create(session=session, learner=people[3], status=Seat.Status.WAITING)
    return session


@pytest.fixture
def other_session(setting, people):
    """Two graduates in a session of another track on the same framework."""
    return make_session(make_track(setting.framework, "Autre parcours"), learners=people[:2])


@pytest.fixture
def certificate_manager(db) -> User:
    """Staff who are not superusers, granted the certificate permission and the admin."""
    user = make_user("gestion@example.org", "Gestion Certificats", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="change_certificate"),
    )
    return user


def run_bulk(award, by, mode, capture, session) -> BulkIssue:
    with capture(execute=True):
        job = services.start_bulk(award, by, mode, session)
    job.refresh_from_db()
    return job


def bulk_url(award, mode="issue", session=None) -> str:
    url = reverse("certification_award_bulk", args=[award.pk, mode])
    return f"{url}?session={session.pk}" if session else url


def holders(award) -> list[int]:
    return sorted(Certificate.objects.filter(award=award).values_list("learner_id", flat=True))


# --- The service ------------------------------------------------------------------------


def test_a_session_bulk_issues_only_to_the_sessions_eligible_seat_holders(
    setting, people, session, staff, django_capture_on_commit_callbacks
):
    job = run_bulk(
        setting.module_award,
        staff,
        BulkIssue.Mode.ISSUE,
        django_capture_on_commit_callbacks,
        session,
    )

    assert job.session == session
    assert (job.status, job.total, job.done, job.percent) == ("done", 2, 2, 100)
    assert holders(setting.module_award) == [people[0].pk, people[1].pk]
    assert not Certificate.objects.filter(award=setting.module_award, pdf="").exists()


def test_running_a_session_bulk_twice_creates_no_duplicate(
    setting, people, session, staff, django_capture_on_commit_callbacks
):
    jobs = [
        run_bulk(
            setting.module_award,
            staff,
            BulkIssue.Mode.ISSUE,
            django_capture_on_commit_callbacks,
            session,
        )
        for _ in range(2)
    ]
    assert [(job.status, job.done) for job in jobs] == [("done", 2), ("done", 2)]
    assert holders(setting.module_award) == [people[0].pk, people[1].pk]


def test_a_session_bulk_counts_every_chunk_until_the_progress_reaches_its_total(
    setting, people, session, staff, monkeypatch
):
    monkeypatch.setattr(services, "BULK_CHUNK_SIZE", 1)
    job = services.start_bulk(setting.module_award, staff, BulkIssue.Mode.ISSUE, session)
    assert (job.total, job.chunks.count()) == (2, 2)
    seen = []
    for chunk in job.chunks.order_by("index"):
        services.process_bulk_chunk(chunk.pk)
        job.refresh_from_db()
        seen.append((job.done, job.percent, job.status))
    assert seen == [(1, 50, "running"), (2, 100, "done")]


def test_a_session_regenerate_renders_only_its_learners_certificates_again(
    setting, people, session, staff, django_capture_on_commit_callbacks
):
    for person in (people[0], people[1], people[4]):
        certificate, _created = services.issue(person, setting.module_award, render=False)
        services.render(certificate.pk)
    before = dict(
        Certificate.objects.filter(award=setting.module_award).values_list(
            "learner_id", "rendered_at"
        )
    )
    job = run_bulk(
        setting.module_award,
        staff,
        BulkIssue.Mode.REGENERATE,
        django_capture_on_commit_callbacks,
        session,
    )
    after = dict(
        Certificate.objects.filter(award=setting.module_award).values_list(
            "learner_id", "rendered_at"
        )
    )
    assert (job.status, job.total) == ("done", 2)
    assert after[people[0].pk] > before[people[0].pk]
    assert after[people[1].pk] > before[people[1].pk]
    assert after[people[4].pk] == before[people[4].pk]


def test_a_regeneration_progress_counts_certificates_not_learners(
    client, setting, people, session, staff, django_capture_on_commit_callbacks
):
    certificate, _created = services.issue(people[0], setting.module_award, render=False)
    job = run_bulk(
        setting.module_award,
        staff,
        BulkIssue.Mode.REGENERATE,
        django_capture_on_commit_callbacks,
        None,
    )
    client.force_login(staff)

    page = client.get(reverse("certification:bulk_progress", args=[job.pk])).content.decode()

    assert "Certificats traités" in page and "Apprenant·es traité·es" not in page


def test_a_session_of_a_track_that_does_not_lead_to_the_award_is_refused(
    setting, other_session, staff
):
    other = other_session
    with pytest.raises(services.BulkRefused):
        services.start_bulk(setting.module_award, staff, BulkIssue.Mode.ISSUE, other)
    with pytest.raises(services.BulkRefused):
        services.start_bulk(setting.completion_award, staff, BulkIssue.Mode.ISSUE, other)
    assert not BulkIssue.objects.exists()


def test_a_session_not_over_yet_is_refused_as_its_certificates_would_miss_half_days(
    setting, people, staff
):
    import datetime

    from django.utils import timezone

    under_way = make_session(
        setting.track,
        learners=people[:2],
        starts_on=timezone.localdate() - datetime.timedelta(days=1),
        ends_on=timezone.localdate() + datetime.timedelta(days=1),
    )

    with pytest.raises(services.BulkRefused) as refusal:
        services.start_bulk(setting.completion_award, staff, BulkIssue.Mode.ISSUE, under_way)

    assert "une fois la session terminée" in str(refusal.value)
    assert not BulkIssue.objects.exists()
    # Regenerating re-reads no attendance, and a module's attestation freezes none.
    services.check_session_fits(setting.completion_award, under_way, BulkIssue.Mode.REGENERATE)
    services.check_session_fits(setting.module_award, under_way, BulkIssue.Mode.ISSUE)


def test_the_frameworks_awards_fit_every_session_of_a_track_on_that_framework(
    setting, other_session
):
    fitting = set(Award.objects.for_track(other_session.track))
    assert fitting == {setting.block_award, setting.certification_award}


def test_a_session_where_nobody_is_eligible_is_refused(setting, people, staff):
    nobody = make_session(setting.track, learners=[people[7], people[8]])
    with pytest.raises(services.BulkRefused):
        services.start_bulk(setting.module_award, staff, BulkIssue.Mode.ISSUE, nobody)
    with pytest.raises(services.BulkRefused):
        services.start_bulk(setting.module_award, staff, BulkIssue.Mode.REGENERATE, nobody)
    assert not BulkIssue.objects.exists()


# --- The admin ----------------------------------------------------------------------------


def test_staff_start_a_session_bulk_from_the_form_and_land_on_its_progress(
    client, setting, people, session, certificate_manager, django_capture_on_commit_callbacks
):
    client.force_login(certificate_manager)
    page = client.get(bulk_url(setting.module_award, session=session))
    assert page.status_code == 200
    assert page.context["form"]["session"].value() == str(session.pk)
    assert page.context["form"].errors == {}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(bulk_url(setting.module_award), {"session": session.pk})
    job = BulkIssue.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("certification:bulk_progress", args=[job.pk])
    assert (job.session, job.requested_by) == (session, certificate_manager)
    assert holders(setting.module_award) == [people[0].pk, people[1].pk]
    progress = client.get(response.url)
    assert 'data-testid="bulk-session"' in progress.content.decode()


def test_the_form_explains_a_session_of_another_track_at_once_and_refuses_it(
    client, setting, other_session, staff
):
    client.force_login(staff)
    page = client.get(bulk_url(setting.module_award, session=other_session))
    assert page.status_code == 200
    assert "session" in page.context["form"].errors
    response = client.post(bulk_url(setting.module_award), {"session": other_session.pk})
    assert response.status_code == 200
    assert "session" in response.context["form"].errors
    assert not BulkIssue.objects.exists()


def test_the_form_refuses_a_session_where_nobody_is_eligible(client, setting, people, staff):
    nobody = make_session(setting.track, learners=[people[7], people[8]])
    client.force_login(staff)
    response = client.post(bulk_url(setting.module_award), {"session": nobody.pk})
    assert response.status_code == 200
    assert "session" in response.context["form"].errors
    assert not BulkIssue.objects.exists()
    assert not Certificate.objects.exists()


def test_the_sessions_admin_page_links_each_fitting_award_to_its_prefilled_form(
    client, setting, session, certificate_manager
):
    client.force_login(certificate_manager)
    response = client.get(reverse("certification_session_bulk", args=[session.pk]))
    assert response.status_code == 200
    awards = [award for award, _actions in response.context["rows"]]
    assert set(awards) == {
        setting.module_award,
        setting.block_award,
        setting.certification_award,
        setting.awareness_award,
        setting.end_of_training_award,
        setting.completion_award,
    }
    html = response.content.decode()
    assert bulk_url(setting.module_award, session=session) in html
    assert bulk_url(setting.module_award, "regenerate", session=session) in html
    # Each action names its award (RGAA 6.1), and each row is headed by it.
    soup = BeautifulSoup(html, "html.parser")
    for link in soup.select('[data-testid="session-bulk-link"]'):
        row_header = link.find_parent("tr").th.get_text(strip=True)
        assert link.get_text().endswith(f" — {row_header}")


def test_the_session_listing_offers_the_bulk_form_to_certificate_managers_only(
    session, certificate_manager, karim
):
    staff_without_permission = make_user("equipe@example.org", "Équipe", is_staff=True)
    assert [item.url for item in session_bulk_button(session, certificate_manager)] == [
        reverse("certification_session_bulk", args=[session.pk])
    ]
    assert session_bulk_button(session, karim) == []
    assert session_bulk_button(session, staff_without_permission) == []
    assert session_bulk_button(certificate_manager, certificate_manager) == []


def test_staff_without_the_certificate_permission_cannot_start_a_session_bulk(
    client, setting, people, session, django_capture_on_commit_callbacks
):
    user = make_user("equipe@example.org", "Équipe", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    for url in (
        reverse("certification_session_bulk", args=[session.pk]),
        bulk_url(setting.module_award, session=session),
    ):
        assert client.get(url).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(bulk_url(setting.module_award), {"session": session.pk})
    assert response.status_code == 302
    assert not BulkIssue.objects.exists()
    assert not Certificate.objects.exists()
    job = BulkIssue.objects.create(award=setting.module_award, session=session, total=2)
    assert client.get(reverse("certification:bulk_progress", args=[job.pk])).status_code == 404


@pytest.mark.parametrize("seats", [5, 30])
def test_starting_a_session_bulk_reads_as_many_queries_for_5_or_30_seat_holders(
    setting, staff, seats, django_assert_max_num_queries
):
    learners = [make_user(f"seat{n}@example.org", f"Place {n}") for n in range(seats)]
    for learner in learners[::2]:
        ModuleCompletion.objects.create(learner=learner, module=setting.basics)
    session = make_session(setting.track, learners=learners)
    with django_assert_max_num_queries(6):
        job = services.start_bulk(setting.module_award, staff, BulkIssue.Mode.ISSUE, session)
    assert job.total == len(learners[::2])


def test_a_session_whose_link_signatures_await_confirmation_is_refused(setting, people, staff):
    import datetime

    from django.utils import timezone

    from learners.session_models import Attendance, HalfDay
    from tests.learners.attendance_helpers import add_half_day

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    over = make_session(setting.track, learners=people[:2], starts_on=yesterday)
    half_day = add_half_day(over, day=yesterday, period=HalfDay.Period.MORNING)
    signed = Attendance.objects.create(
        half_day=half_day,
        learner=people[0],
        status=Attendance.Status.PRESENT,
        method=Attendance.Method.LINK,
        signed_at=timezone.now(),
    )

    with pytest.raises(services.BulkRefused) as refusal:
        services.start_bulk(setting.completion_award, staff, BulkIssue.Mode.ISSUE, over)

    assert "1 signature de la session" in str(refusal.value)
    assert "attend la confirmation" in str(refusal.value)
    Attendance.objects.filter(pk=signed.pk).update(confirmed_at=timezone.now())
    services.check_session_fits(setting.completion_award, over, BulkIssue.Mode.ISSUE)


def test_a_learners_own_certificate_waits_for_her_link_signature_to_be_confirmed(setting, people):
    import datetime

    from django.utils import timezone

    from certification.eligibility import eligible
    from learners.attendance import AMEND_DAYS
    from learners.session_models import Attendance, HalfDay
    from tests.learners.attendance_helpers import add_half_day

    # Over, and its attendance closed to its trainers: only the confirmation is missing.
    day = timezone.localdate() - datetime.timedelta(days=AMEND_DAYS + 1)
    over = make_session(setting.track, learners=people[:1], starts_on=day)
    morning = add_half_day(over, day=day, period=HalfDay.Period.MORNING)
    afternoon = add_half_day(over, day=day, period=HalfDay.Period.AFTERNOON)
    for half_day, method in (
        (morning, Attendance.Method.CODE),
        (afternoon, Attendance.Method.LINK),
    ):
        Attendance.objects.create(
            half_day=half_day,
            learner=people[0],
            status=Attendance.Status.PRESENT,
            method=method,
            signed_at=timezone.now(),
        )

    # Not only the session's bulk: her completion, her name given, an award's bulk.
    assert not eligible(people[0], setting.completion_award)
    Attendance.objects.filter(half_day=afternoon).update(confirmed_at=timezone.now())
    assert eligible(people[0], setting.completion_award)
