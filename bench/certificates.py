"""Certificate rendering: speed, memory and bulk throughput, against baselines of the same run.

    python bench/certificates.py [--renders 200] [--bulk 300] [--trace] [--no-bulk]

Prints, and writes to bench/results/certificates.json:
- per-certificate render time against a trivial WeasyPrint document (one
  paragraph) rendered in the same process through the same pipeline as the
  certificate: same PDF variant (PDF/UA-1) and same font configuration, the
  worker's shared one (goal ≤ 2.5×). The same document rendered with WeasyPrint's
  defaults (a new font configuration per call, as the first version of this
  benchmark did) is printed too. The three are rendered in turn, so a busy
  machine slows them alike;
- memory growth (resident set) over N renders after a warm-up (goal ≤ 20 MB);
  `--trace` also prints what grew in the Python heap between render 50 and N
  (tracemalloc);
- bulk throughput: the same certificates rendered by real Celery workers on
  Redis, from enqueue to the last stored PDF, by one worker process
  (`--concurrency 1`) then by two (`--concurrency 2`) (goal ≥ 1.6×). Needs Redis
  and PostgreSQL on 127.0.0.1 (database `campus_bench_certs`, created and dropped
  here; Redis database 14, a queue of our own); without them that part is
  skipped and says so.

The demo is loaded into a throw-away SQLite database under a temporary folder,
so the certificate timed is the demo's real block attestation.
"""

import argparse
import io
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TRIVIAL_HTML = "<html lang='fr'><title>Test</title><body><p>Bonjour</p></body></html>"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
BULK_DATABASE = "campus_bench_certs"
BULK_BROKER = "redis://127.0.0.1:6379/14"


def setup_django(var_dir: str, database_url: str = "", broker_url: str = "") -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["CAMPUS_VAR_DIR"] = var_dir
    os.environ["MEDIA_ROOT"] = str(Path(var_dir) / "media")
    # Debug off, as in production: with it on Django keeps every query in memory.
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
    for name, value in (("DATABASE_URL", database_url), ("CELERY_BROKER_URL", broker_url)):
        if value:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    import django

    django.setup()


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def load_demo() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())


# --- One process: render time and memory ----------------------------------------------------


def render_times(certificate, repeat: int) -> dict[str, float]:
    import weasyprint

    from certification import rendering

    shared = rendering.pipeline()
    candidates = {
        "trivial_document_ms": lambda: weasyprint.HTML(string=TRIVIAL_HTML).write_pdf(
            pdf_variant=rendering.PDF_VARIANT, font_config=shared.font_config
        ),
        "trivial_document_defaults_ms": lambda: weasyprint.HTML(string=TRIVIAL_HTML).write_pdf(
            pdf_variant=rendering.PDF_VARIANT
        ),
        "certificate_ms": lambda: rendering.render_pdf(certificate),
    }
    durations: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeat):
        for name, render in candidates.items():
            started = time.perf_counter()
            render()
            durations[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1000 for name, values in durations.items()}


def memory_growth(certificate, renders: int, trace: bool) -> float:
    from certification.rendering import render_pdf

    if trace:
        import tracemalloc

        tracemalloc.start(8)
    before = resident_mb()
    snapshot = None
    for done in range(1, renders + 1):
        render_pdf(certificate)
        if trace and done == min(50, renders):
            snapshot = tracemalloc.take_snapshot()
    growth = resident_mb() - before
    if trace:
        print(f"Python heap, render 50 → {renders} (tracemalloc, top sites):")
        for stat in tracemalloc.take_snapshot().compare_to(snapshot, "traceback")[:8]:
            print(f"  {stat.size_diff / 1024:+8.1f} KiB  {stat.count_diff:+6} blocks")
            for line in stat.traceback.format()[-4:]:
                print(f"      {line}")
        tracemalloc.stop()
    return growth


def serial_rate(certificates, count: int) -> float:
    from certification.models import Certificate
    from certification.rendering import render_pdf

    pks = [certificates[n % len(certificates)].pk for n in range(count)]
    started = time.perf_counter()
    for pk in pks:
        render_pdf(Certificate.objects.select_related("award").get(pk=pk))
    return count / (time.perf_counter() - started)


# --- Real Celery workers ---------------------------------------------------------------------


def bulk_unavailable() -> str:
    """Why the Celery part cannot run here, or an empty string."""
    for name, port in (("Redis", 6379), ("PostgreSQL", 5432)):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return f"{name} is not listening on 127.0.0.1:{port}"
    return ""


def run_bulk_in_child(count: int) -> dict:
    """Runs the Celery part in a fresh process: its Django settings name PostgreSQL and Redis."""
    completed = subprocess.run(
        [sys.executable, __file__, "--bulk-child", "--bulk", str(count)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the Celery part failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def bulk_child(count: int) -> None:
    import psycopg

    queue = f"campus-bench-certs-{os.getpid()}"
    var_dir = tempfile.mkdtemp(prefix="campus-bench-bulk-")
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BULK_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BULK_DATABASE}")
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = queue
    # The site fails fast on a dead database; a busy machine's slow connect is no failure here.
    os.environ.setdefault("DATABASE_CONNECT_TIMEOUT", "30")
    try:
        setup_django(var_dir, f"{POSTGRES}/{BULK_DATABASE}", BULK_BROKER)
        results = time_workers(count, queue, var_dir)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BULK_DATABASE} WITH (FORCE)")
        import redis

        broker = redis.Redis.from_url(BULK_BROKER)
        leftovers = list(broker.scan_iter(f"*{queue}*"))
        if leftovers:
            broker.delete(*leftovers)
        shutil.rmtree(var_dir, ignore_errors=True)
    print(json.dumps(results))


def worker_cpu_seconds(pid: int) -> float:
    """User and system CPU time of a worker and its pool processes, from /proc."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # Fields after the command's closing parenthesis: state, ppid, … utime, stime.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def time_workers(count: int, queue: str, var_dir: str) -> dict:
    from django.contrib.auth.hashers import make_password

    from certification import services
    from certification.models import Award, Certificate
    from certification.tasks import render_certificate
    from config.celery import app
    from learners.models import User

    app.conf.task_always_eager = True  # the demo's own certificates render in this process
    load_demo()
    app.conf.task_always_eager = False
    award = Award.objects.filter(kind=Award.Kind.BLOCK).order_by("pk").first()
    demo = list(Certificate.objects.valid().values_list("pk", flat=True))
    learners = User.objects.bulk_create(
        User(
            email=f"bench{n:04d}@example.org",
            full_name=f"Apprenant·e Banc {n:04d}",
            password=make_password(None),  # unusable: nobody logs in
        )
        for n in range(count)
    )
    timed = [services.issue(learner, award, render=False)[0].pk for learner in learners]

    def unrender(pks: list[int]) -> None:
        Certificate.objects.filter(pk__in=pks).update(
            pdf="", pdf_sha256="", rendered_at=None, render_claimed_at=None
        )

    def rendered(pks: list[int]) -> int:
        return Certificate.objects.filter(pk__in=pks).exclude(pdf="").count()

    def render_all(pks: list[int], timeout: float = 900) -> tuple[float, float]:
        """Seconds from enqueue to the last stored PDF, and the worker's CPU seconds meanwhile."""
        cpu = worker_cpu_seconds(worker.pid)
        started = time.perf_counter()
        for pk in pks:
            render_certificate.apply_async(args=[pk])
        deadline = time.monotonic() + timeout
        while rendered(pks) < len(pks):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{rendered(pks)} of {len(pks)} rendered")
            time.sleep(0.05)
        return time.perf_counter() - started, worker_cpu_seconds(worker.pid) - cpu

    # No recycling of pool processes during the comparison: with one process a
    # run longer than WORKER_MAX_TASKS_PER_CHILD restarts its child (Django and
    # fonts loaded again) where two processes, sharing the tasks, do not.
    env = {**os.environ, "LOG_LEVEL": "WARNING", "WORKER_MAX_TASKS_PER_CHILD": "0"}
    elapsed, cpu = {}, {}
    for concurrency in (1, 2):
        worker = subprocess.Popen(
            [str(Path(sys.executable).with_name("celery")), "-A", "config", "worker"]
            + ["-n", f"bench-{concurrency}@%h", "-Q", queue, "-c", str(concurrency)]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(var_dir) / f"worker-{concurrency}.log", "wb"),  # noqa: SIM115
            start_new_session=True,
        )
        try:
            # Warm-up, untimed: each pool process loads Django, fonts and stylesheet once.
            unrender(demo)
            render_all(demo, timeout=300)
            unrender(timed)
            elapsed[concurrency], cpu[concurrency] = render_all(timed)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
    return {
        "celery_certificates": count,
        "one_worker_process_certificates_per_s": round(count / elapsed[1], 2),
        "two_worker_processes_certificates_per_s": round(count / elapsed[2], 2),
        "bulk_ratio": round(elapsed[1] / elapsed[2], 2),
        # Cores the workers actually got: on a machine other work keeps busy, a
        # second process cannot run twice as fast if it never gets a core of its own.
        "one_worker_process_cores_used": round(cpu[1] / elapsed[1], 2),
        "two_worker_processes_cores_used": round(cpu[2] / elapsed[2], 2),
        "cpu_seconds_per_certificate": {
            "one_process": round(cpu[1] / count, 3),
            "two_processes": round(cpu[2] / count, 3),
        },
    }


# --- Report --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=200)
    # Some 30 s of rendering per run: shorter runs let the warm-up and the last
    # task's wait swing the ratio by a third.
    parser.add_argument("--bulk", type=int, default=300)
    parser.add_argument("--trace", action="store_true", help="print tracemalloc's top growth")
    parser.add_argument(
        "--no-bulk", action="store_true", help="skip the Celery part (to iterate on rendering)"
    )
    parser.add_argument("--bulk-child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.bulk_child:
        bulk_child(options.bulk)
        return

    load_at_start = os.getloadavg()[0]
    var_dir = tempfile.mkdtemp(prefix="campus-bench-")
    setup_django(var_dir)
    from certification.models import Certificate
    from certification.rendering import render_pdf

    load_demo()
    certificates = list(Certificate.objects.valid().select_related("award").order_by("pk"))
    certificate = next(c for c in certificates if c.award.kind == "block")

    # Warm-up: fonts, stylesheet, templates and caches loaded once, as in a long-lived worker.
    for _ in range(3):
        render_pdf(certificate)
    times = render_times(certificate, 30)
    ratio = times["certificate_ms"] / times["trivial_document_ms"]
    growth = memory_growth(certificate, options.renders, options.trace)
    serial = serial_rate(certificates, 40)

    results = {
        **{name: round(value, 1) for name, value in times.items()},
        "render_ratio": round(ratio, 2),
        "render_ratio_against_defaults": round(
            times["certificate_ms"] / times["trivial_document_defaults_ms"], 2
        ),
        "render_ratio_goal": 2.5,
        "memory_growth_mb": round(growth, 1),
        "memory_growth_renders": options.renders,
        "memory_growth_goal_mb": 20,
        "in_process_serial_certificates_per_s": round(serial, 2),
        "bulk_ratio_goal": 1.6,
        "cores": os.cpu_count(),
        # Other work on the machine: the ratios hold, the absolute figures do not.
        "load_average_1min": [round(load_at_start, 2), round(os.getloadavg()[0], 2)],
    }
    print("Certificate rendering (baseline: a one-paragraph document, same process, same")
    print("PDF/UA-1 variant and shared font configuration as the certificate)")
    print(f"  trivial document      {times['trivial_document_ms']:>8.1f} ms")
    print(
        f"  same, WeasyPrint defaults {times['trivial_document_defaults_ms']:>4.1f} ms"
        "   (a new font configuration per call)"
    )
    print(f"  certificate           {times['certificate_ms']:>8.1f} ms   ratio {ratio:.2f} (≤ 2.5)")
    print(
        f"                                    ratio {results['render_ratio_against_defaults']:.2f}"
        " against the defaults"
    )
    print(f"  memory over {options.renders} renders {growth:>6.1f} MB           (≤ 20)")
    print(f"  serial, in process    {serial:>8.2f} /s")

    reason = "--no-bulk was given" if options.no_bulk else bulk_unavailable()
    if reason:
        print(f"  Celery workers: skipped, {reason}")
        results["bulk_skipped"] = reason
    else:
        bulk = run_bulk_in_child(options.bulk)
        results.update(bulk)
        print(
            f"  Celery, 1 process     {bulk['one_worker_process_certificates_per_s']:>8.2f} /s"
            f"   ({options.bulk} certificates, enqueue to last PDF stored)"
        )
        print(
            f"  Celery, 2 processes   {bulk['two_worker_processes_certificates_per_s']:>8.2f} /s"
            f"   ratio {bulk['bulk_ratio']:.2f} (≥ 1.6)"
        )
        print(
            f"  cores the workers got  {bulk['one_worker_process_cores_used']:.2f} with 1 process,"
            f" {bulk['two_worker_processes_cores_used']:.2f} with 2"
        )
    start, end = results["load_average_1min"]
    print(f"  ({results['cores']} cores, load average {start} at the start, {end} at the end)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "certificates.json").write_text(json.dumps(results, indent=2) + "\n")
    shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
