"""Staff issue or re-render an award for every eligible learner, in chunks."""

import pytest
from django.urls import reverse

from certification import services
from certification.models import BulkIssue, BulkIssueChunk, Certificate
from learners.models import ModuleCompletion, User
from tests.conftest import make_user


@pytest.fixture
def graduates(setting) -> list[User]:
    """Seven learners who completed « Les bases », two who did not."""
    people = [make_user(f"learner{n}@example.org", f"Apprenant {n}") for n in range(9)]
    for person in people[:7]:
        ModuleCompletion.objects.create(learner=person, module=setting.basics)
    return people


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(services, "BULK_CHUNK_SIZE", 3)


def run_bulk(award, by, mode, capture) -> BulkIssue:
    with capture(execute=True):
        job = services.start_bulk(award, by, mode)
    job.refresh_from_db()
    return job


def test_bulk_issue_gives_every_eligible_learner_one_rendered_certificate(
    setting, graduates, staff, small_chunks, django_capture_on_commit_callbacks
):
    services.issue(graduates[0], setting.module_award)  # already holds it

    job = run_bulk(
        setting.module_award, staff, BulkIssue.Mode.ISSUE, django_capture_on_commit_callbacks
    )

    assert (job.status, job.total, job.done, job.percent) == ("done", 7, 7, 100)
    assert job.chunks.count() == 3
    certificates = Certificate.objects.filter(award=setting.module_award)
    assert sorted(certificates.values_list("learner_id", flat=True)) == sorted(
        p.pk for p in graduates[:7]
    )
    assert not certificates.filter(pdf="").exists()


def test_running_the_bulk_again_creates_no_duplicate(
    setting, graduates, staff, small_chunks, django_capture_on_commit_callbacks
):
    for _ in range(2):
        run_bulk(
            setting.module_award, staff, BulkIssue.Mode.ISSUE, django_capture_on_commit_callbacks
        )
    assert Certificate.objects.filter(award=setting.module_award).count() == 7


def test_a_redelivered_chunk_is_neither_redone_nor_counted_twice(
    setting, graduates, staff, small_chunks, django_capture_on_commit_callbacks
):
    job = run_bulk(
        setting.module_award, staff, BulkIssue.Mode.ISSUE, django_capture_on_commit_callbacks
    )
    chunk = job.chunks.first()
    assert services.process_bulk_chunk(chunk.pk) is False
    job.refresh_from_db()
    assert job.done == 7


def test_a_chunk_interrupted_midway_finishes_the_job_when_delivered_again(
    setting, graduates, staff, small_chunks
):
    job = services.start_bulk(setting.module_award, staff, BulkIssue.Mode.ISSUE)
    first = job.chunks.order_by("index").first()
    # A worker died after issuing to the chunk's first learner.
    services.issue(User.objects.get(pk=first.item_ids[0]), setting.module_award, render=False)
    for chunk in BulkIssueChunk.objects.filter(job=job):
        services.process_bulk_chunk(chunk.pk)
    job.refresh_from_db()
    assert (job.status, job.done) == ("done", 7)
    assert Certificate.objects.filter(award=setting.module_award).count() == 7
    assert not Certificate.objects.filter(award=setting.module_award, pdf="").exists()


def test_bulk_regenerate_renders_every_valid_certificate_again(
    setting, graduates, staff, django_capture_on_commit_callbacks
):
    run_bulk(setting.module_award, staff, BulkIssue.Mode.ISSUE, django_capture_on_commit_callbacks)
    before = dict(
        Certificate.objects.filter(award=setting.module_award).values_list("pk", "rendered_at")
    )
    job = run_bulk(
        setting.module_award, staff, BulkIssue.Mode.REGENERATE, django_capture_on_commit_callbacks
    )
    after = dict(
        Certificate.objects.filter(award=setting.module_award).values_list("pk", "rendered_at")
    )
    assert job.status == "done" and job.total == 7
    assert all(after[pk] > before[pk] for pk in before)


def test_a_block_bulk_examines_learners_with_evidence_and_issues_only_to_the_eligible(
    setting, camille, dominique, staff, django_capture_on_commit_callbacks
):
    from tests.certification.conftest import reach

    for code in ("B1.1", "B1.2"):
        reach(camille, setting.framework, code, 2)
    reach(dominique, setting.framework, "B1.1", 3)  # B1.2 missing
    job = run_bulk(
        setting.block_award, staff, BulkIssue.Mode.ISSUE, django_capture_on_commit_callbacks
    )
    assert job.total == 2
    holders = Certificate.objects.filter(award=setting.block_award)
    assert list(holders.values_list("learner", flat=True)) == [camille.pk]


def test_the_progress_page_and_its_json_are_for_staff_only(
    client, setting, staff, camille, django_capture_on_commit_callbacks
):
    job = BulkIssue.objects.create(
        award=setting.module_award, requested_by=staff, total=40, done=10
    )
    page = f"/certificats/lots/{job.pk}/"
    data = f"/certificats/lots/{job.pk}.json"

    client.force_login(staff)
    html = client.get(page).content.decode()
    # Works without JavaScript: a visible link asks for the page again (no timed refresh).
    assert 'http-equiv="refresh"' not in html
    assert f'<a href="{page}" data-testid="bulk-progress-refresh">' in html
    # Nothing updates the page by itself without the script: it says so only once it runs.
    assert '<p data-field="updating" hidden>' in html
    assert '<progress id="bulk-bar" max="40" value="10">' in html
    assert client.get(data).json() == {
        "status": "running",
        "total": 40,
        "done": 10,
        "failed": 0,
        "percent": 25,
        "finished": False,
    }

    client.force_login(camille)
    assert client.get(page).status_code == 404
    assert client.get(data).status_code == 404


def test_a_finished_job_stops_refreshing(client, setting, staff):
    job = BulkIssue.objects.create(
        award=setting.module_award, total=0, status=BulkIssue.Status.DONE
    )
    client.force_login(staff)
    html = client.get(f"/certificats/lots/{job.pk}/").content.decode()
    assert "bulk-progress-refresh" not in html and "task-progress.js" not in html


def test_a_learner_whose_certificate_fails_is_counted_and_the_others_still_get_theirs(
    client, setting, graduates, staff, small_chunks, django_capture_on_commit_callbacks, monkeypatch
):
    real_render = services.render_or_defer
    broken = graduates[4]

    def render_or_defer(certificate_pk):
        if Certificate.objects.get(pk=certificate_pk).learner_id == broken.pk:
            raise ValueError("a template error on this learner's data")
        return real_render(certificate_pk)

    monkeypatch.setattr(services, "render_or_defer", render_or_defer)

    job = run_bulk(
        setting.module_award, staff, BulkIssue.Mode.ISSUE, django_capture_on_commit_callbacks
    )

    assert (job.status, job.done, job.failed) == ("done", 7, 1)
    rendered = Certificate.objects.filter(award=setting.module_award).exclude(pdf="")
    assert rendered.count() == 6
    # Issued all the same, awaiting its PDF: the periodic task, or a new run, renders it.
    assert Certificate.objects.filter(learner=broken, pdf="").exists()
    client.force_login(staff)
    page = client.get(reverse("certification:bulk_progress", args=[job.pk])).text
    assert 'data-testid="bulk-failed"' in page and "1 élément" in page

    # The cause fixed, the job run again: the PDF is rendered, nobody has a second one.
    monkeypatch.setattr(services, "render_or_defer", real_render)
    again = run_bulk(
        setting.module_award, staff, BulkIssue.Mode.ISSUE, django_capture_on_commit_callbacks
    )
    assert again.failed == 0
    assert Certificate.objects.filter(award=setting.module_award).count() == 7
    assert not Certificate.objects.filter(award=setting.module_award, pdf="").exists()


def test_a_database_outage_during_a_chunk_leaves_it_to_be_retried(
    setting, graduates, staff, small_chunks, django_capture_on_commit_callbacks, monkeypatch
):
    from django.db import OperationalError

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "render_or_defer", database_gone)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.start_bulk(setting.module_award, staff, BulkIssue.Mode.ISSUE)
    assert callbacks
    chunk = job.chunks.order_by("index").first()
    with pytest.raises(OperationalError):
        services.process_bulk_chunk(chunk.pk)
    chunk.refresh_from_db()
    job.refresh_from_db()
    assert chunk.done_at is None and job.failed == 0


def test_a_bulk_regeneration_leaves_alone_a_certificate_withdrawn_after_it_started(
    setting, graduates, staff, small_chunks, django_capture_on_commit_callbacks
):
    run_bulk(setting.module_award, staff, BulkIssue.Mode.ISSUE, django_capture_on_commit_callbacks)
    job = services.start_bulk(setting.module_award, staff, BulkIssue.Mode.REGENERATE)
    withdrawn = Certificate.objects.get(pk=job.chunks.order_by("index").first().item_ids[0])
    services.revoke(withdrawn, "Délivré par erreur.", by=staff)
    published = Certificate.objects.get(pk=withdrawn.pk).pdf_sha256

    for chunk in job.chunks.all():
        services.process_bulk_chunk(chunk.pk)

    withdrawn.refresh_from_db()
    assert withdrawn.pdf_sha256 == published and withdrawn.rendered_at is not None


def test_a_learner_whose_results_are_still_being_recorded_is_counted_and_said(
    client, setting, graduates, staff, small_chunks, django_capture_on_commit_callbacks, monkeypatch
):
    waiting = graduates[2]
    real_wait = services._waits_for_evidence
    monkeypatch.setattr(
        services,
        "_waits_for_evidence",
        lambda learner, award: learner.pk == waiting.pk or real_wait(learner, award),
    )

    job = run_bulk(
        setting.module_award, staff, BulkIssue.Mode.ISSUE, django_capture_on_commit_callbacks
    )

    assert (job.status, job.done, job.failed, job.deferred) == ("done", 7, 0, 1)
    assert not Certificate.objects.filter(learner=waiting).exists()
    client.force_login(staff)
    page = client.get(reverse("certification:bulk_progress", args=[job.pk])).text
    assert 'data-testid="bulk-deferred"' in page and "1 apprenant·e" in page

    monkeypatch.setattr(services, "_waits_for_evidence", real_wait)  # recorded since
    again = run_bulk(
        setting.module_award, staff, BulkIssue.Mode.ISSUE, django_capture_on_commit_callbacks
    )
    assert again.deferred == 0 and Certificate.objects.filter(learner=waiting).exists()
