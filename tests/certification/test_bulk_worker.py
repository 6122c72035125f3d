"""A thousand certificates through real Celery workers, one of them killed mid-run.

Runs in CI's PostgreSQL + Redis leg only. The workers are `celery -A config worker`
subprocesses on the test database; the first one is SIGKILLed while it renders,
a second one is started, and the job must end with exactly one rendered
certificate per learner: no duplicate, none missing, every hash true.
"""

import hashlib
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings

from certification import services
from certification.models import Award, BulkIssue, Certificate
from config.celery import app as campus_app
from learners.models import ModuleCompletion, User
from tests.learners.factories import make_framework, make_module, make_track
from tests.workers import (
    celery_worker_command,
    processes,  # noqa: F401 - fixture
    real_processes,
    shared_database_url,
    wait_for,
)

LEARNERS = int(os.environ.get("BULK_TEST_LEARNERS", "1000"))
VISIBILITY_TIMEOUT = 20  # seconds before a dead worker's tasks are delivered again
RENDER_LEASE = 15
CONCURRENCY = 4

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    real_processes,
    pytest.mark.skipif(
        not (
            os.environ.get("CELERY_BROKER_URL", "").startswith("redis")
            and os.environ.get("DATABASE_URL", "").startswith("postgres")
        ),
        reason="needs CELERY_BROKER_URL (Redis) and DATABASE_URL (PostgreSQL)",
    ),
]


@pytest.fixture
def eager_tasks(settings, tmp_path):
    """Overrides the package's autouse fixture: here tasks go to real workers."""
    settings.MEDIA_ROOT = tmp_path / "media"
    yield


@pytest.fixture
def queue():
    """A queue of our own, so that parallel runs sharing the Redis never mix."""
    name = f"campus-test-{uuid.uuid4().hex[:8]}"
    app = Celery("campus-bulk-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(task_always_eager=False, task_default_queue=name)
    app.set_current()
    yield name
    campus_app.set_current()


@pytest.fixture
def start_worker(settings, queue, tmp_path, processes):  # noqa: F811 - pytest fixture injection
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": shared_database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CAMPUS_VAR_DIR": str(tmp_path / "var"),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "CERTIFICATE_RENDER_LEASE_SECONDS": str(RENDER_LEASE),
        "LOG_LEVEL": "WARNING",
    }

    def start(name: str) -> subprocess.Popen:
        return processes.start(name, celery_worker_command(name, queue, CONCURRENCY), env)

    return start


def rendered(award: Award) -> int:
    return Certificate.objects.filter(award=award).exclude(pdf="").count()


# Serialized rollback: a transactional test elsewhere may have flushed the page tree.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_thousand_certificates_end_with_no_duplicate_and_none_missing_after_a_sigkill(
    start_worker, staff, tmp_path
):
    framework = make_framework()
    module = make_module(make_track(framework), "Les bases", lessons=1, targets=[("B1.1", 2)])
    award = Award.objects.create(
        kind=Award.Kind.MODULE, title="Attestation — Les bases", criteria="—", module=module
    )
    learners = User.objects.bulk_create(
        User(email=f"learner{n:04d}@example.org", full_name=f"Apprenant·e {n:04d}", password="!")
        for n in range(LEARNERS)
    )
    ModuleCompletion.objects.bulk_create(
        ModuleCompletion(learner=learner, module=module) for learner in learners
    )

    started = time.monotonic()
    first = start_worker("first")
    job = services.start_bulk(award, staff)  # autocommit: enqueued at once

    def state() -> str:
        job.refresh_from_db()
        chunks = job.chunks.filter(done_at__isnull=True).count()
        logs = "".join(path.read_text(errors="replace")[-3000:] for path in tmp_path.glob("*.log"))
        return (
            f"{rendered(award)} rendered, {Certificate.objects.filter(award=award).count()} "
            f"issued, job {job.status} {job.done}/{job.total}, {chunks} chunks left\n{logs}"
        )

    wait_for(
        lambda: rendered(award) >= LEARNERS // 4,
        timeout=180,
        what="the first worker to render",
        state=state,
    )
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    killed_at = rendered(award)

    # Its unacknowledged tasks come back once older than the visibility timeout:
    # the second worker restores them then, between the tasks still queued.
    start_worker("second")

    def finished() -> bool:
        job.refresh_from_db()
        return job.status == BulkIssue.Status.DONE and rendered(award) == LEARNERS

    wait_for(finished, timeout=300, what="the second worker to finish the job", state=state)
    elapsed = time.monotonic() - started
    print(f"\n{LEARNERS} certificates rendered in {elapsed:.0f}s ({killed_at} before the kill)")

    assert killed_at < LEARNERS, "the kill came too late to test anything"
    certificates = Certificate.objects.filter(award=award)
    assert certificates.count() == LEARNERS
    assert certificates.values("learner").distinct().count() == LEARNERS
    assert job.done == job.total == LEARNERS
    media = Path(settings.MEDIA_ROOT)
    for certificate in certificates:
        content = (media / certificate.pdf.name).read_bytes()
        assert hashlib.sha256(content).hexdigest() == certificate.pdf_sha256
    # One file per certificate: a render redone after the kill replaced, never added.
    assert len(list((media / "certificates").rglob("*.pdf"))) == LEARNERS
