"""Redis stopped while learners work: pages answer, work is kept, PDFs follow later.

The site (gunicorn, debug off) and a Celery worker run as subprocesses on the
test database, with the cache and the broker on a private redis-server that the
test kills and starts again on the same port. Ten minutes are not waited for:
the pending rows are aged instead, then the periodic tasks are sent through the
broker as the beat would send them.
"""

import datetime
import hashlib
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.urls import reverse
from django.utils import timezone

from certification import services as certification
from certification.models import Award, Certificate
from learners import services as learners
from learners.models import Attempt, LedgerEntry
from tests.learners.factories import make_framework, make_module, make_track
from tests.learners.quiz_helpers import right_form, set_quiz, single
from tests.postgres import needs_postgres
from tests.workers import (
    PrivateRedis,
    Visitor,
    celery_worker_command,
    free_port,
    logs,
    private_redis,  # noqa: F401 - fixture
    processes,  # noqa: F401 - fixture
    real_processes,
    site_environment,
    site_media_root,
    wait_for,
    web_server_command,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, needs_postgres(), real_processes]

# No request may wait longer than this on a dead Redis.
PATIENCE_SECONDS = 2
# The beat's period, shortened: it sends its passes again until the work is done.
BEAT_SECONDS = 30


@dataclass
class Campus:
    visitor: Visitor
    redis: PrivateRedis
    queue: str
    worker_log: Path

    def beat(self, *task_names: str) -> None:
        """Send periodic tasks through the broker, as `celery beat` does.

        The connection is named: Celery prefers the CELERY_BROKER_URL of the
        environment to any broker_url given in code, and the suite's points at
        the shared Redis, whose queue of this name no worker reads.
        """
        app = Celery("campus-faults-beat", set_as_current=False)
        app.conf.update(task_default_queue=self.queue)
        try:
            with app.connection_for_write(self.redis.url(0)) as connection:
                for name in task_names:
                    app.send_task(name, queue=self.queue, connection=connection)
        finally:
            app.close()

    def worker_connections(self) -> int:
        return self.worker_log.read_text(errors="replace").count("Connected to redis")


@pytest.fixture
def campus(processes, private_redis, tmp_path):  # noqa: F811 - fixtures
    # A queue of our own: other runs may share the machine.
    queue = f"campus-faults-{uuid.uuid4().hex[:8]}"
    environment = site_environment(
        tmp_path,
        CACHE_URL=private_redis.url(1),
        CELERY_BROKER_URL=private_redis.url(0),
        CELERY_TASK_DEFAULT_QUEUE=queue,
    )
    port = free_port()
    processes.start("web", web_server_command(port), environment)
    processes.start("worker", celery_worker_command("faults", queue, loglevel="INFO"), environment)
    campus = Campus(Visitor(port), private_redis, queue, tmp_path / "worker.log")

    def state() -> str:
        return logs(tmp_path)

    wait_for(campus.visitor.ready, timeout=60, what="the site to start", state=state)
    # Redis must go while the worker is connected, as in production.
    wait_for(
        lambda: campus.worker_connections() == 1,
        timeout=60,
        what="the worker to start",
        state=state,
    )
    return campus


# Serialized rollback: the flush after a transactional test wipes Wagtail's page tree.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_redis_stopped_learners_keep_working_and_their_pdf_follows_once_it_is_back(
    campus, camille, tmp_path
):
    track = make_track(make_framework())
    module = make_module(track, "Les bases", lessons=1, targets=[("B1.1", 2)])
    module = set_quiz(module, [single("B1.1")])
    award = Award.objects.create(
        kind=Award.Kind.MODULE, title="Attestation — Les bases", criteria="—", module=module
    )
    lesson = module.lessons().first()
    learners.enrol(camille, track)
    # Issued earlier, its PDF still to render when Redis goes: verifiable meanwhile.
    later_module = make_module(track, "La suite", lessons=1)
    earlier, _ = certification.issue(
        camille,
        Award.objects.create(
            kind=Award.Kind.MODULE, title="Attestation — Suite", criteria="—", module=later_module
        ),
        render=False,
    )
    visitor = campus.visitor.log_in(camille)
    # Visited while Redis is up: the cache and the connection pools are warm.
    assert visitor.get(module.url)[0].status == 200

    campus.redis.stop()

    def promptly(method: str, path: str, data: dict | None = None, expect: int = 200) -> str:
        response, body, elapsed = visitor.request(method, path, data)
        assert response.status == expect, f"{method} {path}: {response.status}\n{logs(tmp_path)}"
        assert elapsed < PATIENCE_SECONDS, f"{method} {path} took {elapsed:.2f}s"
        return response.headers.get("Location", "")

    for path in [
        reverse("courses:catalogue"),
        track.url,
        module.url,
        lesson.url,  # sets the CSRF cookie the forms below need
        reverse("learners:dashboard"),
    ]:
        promptly("GET", path)
    csrf = {"csrfmiddlewaretoken": visitor.cookies["csrftoken"]}
    promptly("POST", reverse("learners:lesson_done", args=[lesson.pk]), csrf, expect=302)
    promptly("POST", reverse("learners:quiz_start", args=[module.pk]), csrf, expect=302)
    attempt = Attempt.objects.get(learner=camille, module=module)
    promptly(
        "POST",
        reverse("learners:quiz_take", args=[attempt.pk]),
        {**csrf, **right_form(attempt)},
        expect=302,
    )
    promptly("GET", reverse("learners:quiz_result", args=[attempt.pk]))

    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED and attempt.passed
    # Its evidence task could not be enqueued: the periodic catch-up records it later,
    # and the module's attestation, which names the levels that quiz proved, waits for it.
    assert attempt.outcome_recorded_at is None
    assert not Certificate.objects.filter(learner=camille, award=award).exists()
    assert earlier.pdf == ""
    promptly("GET", reverse("certification:verify", args=[earlier.code]))
    promptly("GET", reverse("learners:dashboard"))

    campus.redis.start()
    ten_minutes_ago = timezone.now() - datetime.timedelta(minutes=11)
    Attempt.objects.filter(pk=attempt.pk).update(submitted_at=ten_minutes_ago)
    Certificate.objects.filter(pk=earlier.pk).update(render_enqueued_at=ten_minutes_ago)
    certificate = None

    def state() -> str:
        broker = redis.Redis(port=campus.redis.port, socket_timeout=1)
        queued = {key.decode(): broker.type(key).decode() for key in broker.scan_iter()}
        return (
            f"certificate={certificate!r} earlier={earlier.pdf!r} "
            f"outcome={attempt.outcome_recorded_at} broker={queued}\n{logs(tmp_path)}"
        )

    # The worker reconnects on its own, backing off a little more at each try.
    wait_for(
        lambda: campus.worker_connections() >= 2,
        timeout=60,
        what="the worker to reconnect",
        state=state,
    )
    last_beat = 0.0

    def caught_up() -> bool:
        nonlocal last_beat
        if time.monotonic() - last_beat > BEAT_SECONDS:
            campus.beat(
                "certification.tasks.rerender_stale", "learners.tasks.record_missed_outcomes"
            )
            last_beat = time.monotonic()
        nonlocal certificate
        certificate = Certificate.objects.filter(learner=camille, award=award).first()
        earlier.refresh_from_db()
        attempt.refresh_from_db()
        return bool(certificate and certificate.pdf and earlier.pdf) and bool(
            attempt.outcome_recorded_at
        )

    wait_for(caught_up, timeout=180, what="the worker to catch up", state=state)
    for issued in (earlier, certificate):
        content = (site_media_root(tmp_path) / issued.pdf.name).read_bytes()
        assert content.startswith(b"%PDF")
        assert hashlib.sha256(content).hexdigest() == issued.pdf_sha256
    assert ("B1.1", "Appliquer") in [
        (row["code"], row["level"]) for row in certificate.context["competences"]
    ]
    assert LedgerEntry.objects.filter(
        learner=camille, source=LedgerEntry.Source.ASSESSMENT
    ).exists()
