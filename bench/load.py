"""Load benchmark: gunicorn under wrk on the large population, against a bare view.

    python -m bench.load [--duration 10] [--hold 120]

Needs `python -m bench.population` first. Then:

1. counts the queries of every target page with Django's test client, on the
   database as the demo left it and on the large one (same persona, same URL):
   a difference is a failure (an N+1 or a missing index the size brought out);
2. starts gunicorn as production runs it (sync workers, debug off, Redis cache
   and broker) on a free local port, with the bench-only baseline view on;
3. runs wrk (a separate process: -t2 -c8) against each target after a short
   warm-up, and reports requests/s, p50, p95 and the ratio to the baseline B,
   measured just before and just after the target (B, T1, B, T2, B…): the
   mean of the two runs bracketing a target is its B, so that a machine
   drifting over the minutes of a run (seen: B from 2,200 to 2,900 req/s a few
   minutes apart) skews no ratio;
4. holds the load for --hold seconds at concurrency 8 on the catalogue, the
   dashboard and quiz submission at once (three wrk processes, 3 + 3 + 2
   connections);
5. prints a table and writes bench/results/load.json.

Ratios are what counts: the baseline is measured in the same run, on the same
(possibly shared) machine.
"""

import argparse
import json
import os
import platform
import secrets
import shutil
import socket
import string
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime

from bench.environment import (
    ATTEMPTS,
    DEMO_DB,
    FIXTURES,
    LARGE_DB,
    OPEN_ATTEMPTS,
    REDIS_URL,
    RESULTS,
    ROOT,
    VAR,
    WRK_DIR,
    django_env,
    setup_django,
)

# Target: (goal as a fraction of B, signed in?).
TARGETS = {
    "baseline": (None, False),
    "catalogue": (0.35, False),
    "module": (0.35, True),
    "lesson": (0.35, True),
    "dashboard": (0.30, True),
    "quiz_submission": (0.20, True),
    "verification": (0.50, False),
}
THREADS, CONNECTIONS = 2, 8
# Open attempts each quiz run may consume (wrk cycles through its slice; the
# slice running out would re-submit closed attempts, so it is checked after).
QUIZ_SLICE, HOLD_QUIZ_SLICE = 8_000, 50_000
WORKERS = 2
# The CSRF cookie a signed-in browser holds since its login form: without it every
# page would draw a new secret and set the cookie again, which no browser causes.
# Anonymous targets go without, as a first visit (a scanned QR code) does.
BROWSER_CSRF_SECRET = "".join(
    secrets.choice(string.ascii_letters + string.digits) for _ in range(32)
)
SERVER_ENV = {
    "BENCH_BASELINE_VIEW": "true",
    # One client address sends every request: the per-IP lookup limit would
    # answer 429 within a second. The limit's cache round trips still run.
    "VERIFY_LOOKUPS_PER_MINUTE": str(10**9),
    "CACHE_URL": REDIS_URL,
    "CELERY_BROKER_URL": REDIS_URL,
    "CELERY_TASK_DEFAULT_QUEUE": "bench-load",
}


# --- Query counts ------------------------------------------------------------------------


def count_queries(database: str) -> dict:
    """Queries per target on one database (run in a child process per database)."""
    # As the server runs: with a broker, a passed quiz's evidence task is queued, not run.
    setup_django(database, **SERVER_ENV)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    fixtures = json.loads(FIXTURES.read_text())
    urls = fixtures["urls"]
    counts = {}
    for name, (_goal, signed_in) in TARGETS.items():
        client = Client()
        if name == "quiz_submission":
            from learners.models import Attempt

            # Two attempts still open in this database: each run submits two.
            reserved = {a["attempt"]: a for a in fixtures["reserved_attempts"]}
            still_open = Attempt.objects.filter(
                pk__in=reserved, status=Attempt.Status.IN_PROGRESS
            ).order_by("pk")
            open_ids = list(still_open.values_list("pk", flat=True)[:2])
            if len(open_ids) < 2:
                counts[name] = {"queries": 0, "status": 0, "error": "no open attempt left: re-seed"}
                continue
            warm, measured = (reserved[pk] for pk in open_ids)
            answers = fixtures["quiz_body"]

            def request(attempt, client=client, answers=answers, url=urls[name]):
                client.cookies["sessionid"] = attempt["session"]
                return client.post(
                    url.format(attempt=attempt["attempt"]),
                    answers,
                    content_type="application/x-www-form-urlencoded",
                )

            request(warm)
            with CaptureQueriesContext(connection) as queries:
                response = request(measured)
            expected = 302
        else:
            if signed_in:
                client.cookies["sessionid"] = fixtures["learner_session"]
                client.cookies["csrftoken"] = BROWSER_CSRF_SECRET
            # The first request fills per-process caches (site, root paths).
            client.get(urls[name])
            with CaptureQueriesContext(connection) as queries:
                response = client.get(urls[name])
            expected = 200
        counts[name] = {"queries": len(queries), "status": response.status_code}
        if response.status_code != expected:
            counts[name]["error"] = f"status {response.status_code}, expected {expected}"
    return counts


def query_counts() -> dict:
    results = {}
    for label, database in (("demo", DEMO_DB), ("large", LARGE_DB)):
        output = subprocess.run(
            [sys.executable, "-m", "bench.load", "--count-queries", database],
            cwd=ROOT,
            env=django_env(database),
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[label] = json.loads(output.strip().splitlines()[-1])
    return results


SIZED_TABLES = (
    "learners_user",
    "learners_enrolment",
    "learners_lessonprogress",
    "learners_attempt",
    "learners_attemptanswer",
    "certification_certificate",
    "wagtailcore_page",
)


def database_sizes() -> dict:
    """Rows and bytes (with indexes and TOAST) of the big tables: the capacity note's input."""
    import psycopg

    from bench.environment import database_url

    with psycopg.connect(database_url(LARGE_DB)) as db:
        tables = {}
        for table in SIZED_TABLES:
            rows, size = db.execute(
                f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}"  # noqa: S608
            ).fetchone()
            tables[table] = {"rows": rows, "mb": round(size / 2**20, 1)}
        total = db.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return {"total_mb": round(total / 2**20, 1), "tables": tables}


# --- The server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def flush_bench_redis() -> None:
    import redis

    # The benchmark's own Redis database (bench/environment.py): nobody else's keys.
    redis.Redis.from_url(REDIS_URL).flushdb()


def collect_static() -> None:
    # Debug off serves hashed names from WhiteNoise's manifest, as in production.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=django_env(LARGE_DB),
        check=True,
    )


def start_server(port: int) -> subprocess.Popen:
    env = django_env(LARGE_DB, **SERVER_ENV)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn")
            if (ROOT / ".venv" / "bin" / "gunicorn").exists()
            else "gunicorn",
            "config.wsgi",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/baseline/", timeout=2):
                return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 60 seconds")


# --- wrk ---------------------------------------------------------------------------------


def wrk(
    port: int, name: str, fixtures: dict, seconds: int, *, threads=THREADS, connections=None,
    quiz_lines: tuple[int, int] | None = None,
) -> subprocess.Popen:  # fmt: skip
    signed_in = TARGETS[name][1]
    env = dict(os.environ, BENCH_WRK_DIR=str(WRK_DIR), BENCH_THREADS=str(threads))
    if name == "quiz_submission":
        first, last = quiz_lines
        script = "quiz.lua"
        env.update(
            BENCH_ATTEMPTS=str(OPEN_ATTEMPTS),
            BENCH_FIRST=str(first),
            BENCH_LAST=str(last),
            BENCH_QUIZ_BODY=fixtures["quiz_body"],
        )
    else:
        script = "get.lua"
        env.update(
            BENCH_PATH=fixtures["urls"][name],
            BENCH_SESSION=fixtures["learner_session"] if signed_in else "",
            BENCH_CSRF=BROWSER_CSRF_SECRET,
        )
    return subprocess.Popen(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections or CONNECTIONS}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(WRK_DIR / script),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def parse(output: str) -> dict:
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = raw["duration_us"] / 1e6
    errors = raw["errors"]
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 1),
        "requests_per_second": round(raw["requests"] / seconds, 1),
        "p50_ms": round(raw["latency_us"]["p50"] / 1000, 1),
        "p95_ms": round(raw["latency_us"]["p95"] / 1000, 1),
        "p99_ms": round(raw["latency_us"]["p99"] / 1000, 1),
        # Non-2xx/3xx answers, and sockets that failed or timed out.
        "errors": errors["status"]
        + errors["connect"]
        + errors["read"]
        + errors["write"]
        + errors["timeout"],
        "error_detail": errors,
    }


def run(process: subprocess.Popen) -> dict:
    output, _ = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"wrk failed:\n{output}")
    return parse(output)


def _open_attempt_ids(ids: list[int]) -> set[int]:
    import psycopg

    from bench.environment import database_url

    with psycopg.connect(database_url(LARGE_DB)) as db:
        rows = db.execute(
            "SELECT id FROM learners_attempt WHERE id = ANY(%s) AND status = %s",
            [ids, "in_progress"],
        ).fetchall()
    return {row[0] for row in rows}


class QuizSlices:
    """Hands each quiz run its own open attempts, then checks that none was reused.

    Only attempts still open are handed out, so that load.py may run again on
    the same population (an earlier run submitted some).
    """

    def __init__(self):
        lines = ATTEMPTS.read_text().splitlines()
        still_open = _open_attempt_ids([int(line.split(",", 1)[0]) for line in lines])
        self.lines = [line for line in lines if int(line.split(",", 1)[0]) in still_open]
        OPEN_ATTEMPTS.write_text("".join(f"{line}\n" for line in self.lines))
        self.next = 1

    def take(self, size: int) -> tuple[int, int]:
        first, last = self.next, min(len(self.lines), self.next + size - 1)
        self.next = last + 1
        return first, last

    def open_in(self, first: int, last: int) -> int:
        ids = [int(line.split(",", 1)[0]) for line in self.lines[first - 1 : last]]
        return len(_open_attempt_ids(ids))


# --- The whole run -----------------------------------------------------------------------


def _reused(label: str, submitted: int, result: dict) -> list[str]:
    """A request that found its attempt closed measured a redirect, not a submission."""
    if submitted >= result["requests"]:
        return []
    return [
        f"{label}: {result['requests']} quiz requests but {submitted} attempts submitted "
        "(the open attempts ran out: raise QUIZ_SLICE / HOLD_QUIZ_SLICE or re-seed)"
    ]


def _mean_of(runs: list[dict]) -> dict:
    """The baseline's runs as one: figures averaged, errors added, each run's rate kept."""
    mean = {
        field: round(sum(run[field] for run in runs) / len(runs), 1)
        for field in ("requests_per_second", "p50_ms", "p95_ms", "p99_ms")
    }
    return {
        "requests": sum(run["requests"] for run in runs),
        "seconds": round(sum(run["seconds"] for run in runs), 1),
        **mean,
        "errors": sum(run["errors"] for run in runs),
        "error_detail": [run["error_detail"] for run in runs],
        "runs_requests_per_second": [run["requests_per_second"] for run in runs],
    }


def benchmark(duration: int, hold: int, only: list[str] | None = None) -> dict:
    """Every target (or `only` those, with the baseline), then the hold."""
    targets = {name: TARGETS[name] for name in TARGETS if not only or name in ["baseline", *only]}
    fixtures = json.loads(FIXTURES.read_text())
    collect_static()
    print("Counting queries (demo database, then the large one)…", flush=True)
    counts = query_counts()
    failures = []
    for name in targets:
        demo, large = counts["demo"][name], counts["large"][name]
        for label, side in (("demo", demo), ("large", large)):
            if "error" in side:
                failures.append(f"{name} on the {label} database: {side['error']}")
        if demo["queries"] != large["queries"]:
            failures.append(
                f"{name}: {demo['queries']} queries on the demo, {large['queries']} at scale"
            )

    flush_bench_redis()
    port = free_port()
    print(f"Starting gunicorn ({WORKERS} sync workers) on 127.0.0.1:{port}…", flush=True)
    server = start_server(port)
    slices = QuizSlices()
    results: dict[str, dict] = {}
    baselines: list[dict] = []

    def measure_baseline() -> None:
        print("  baseline…", flush=True)
        baselines.append(run(wrk(port, "baseline", fixtures, duration)))

    try:
        run(wrk(port, "baseline", fixtures, 2))  # warm-up, not measured
        measure_baseline()
        for name in targets:
            if name == "baseline":
                continue
            lines = None
            if name == "quiz_submission":
                lines = slices.take(QUIZ_SLICE)
            else:
                run(wrk(port, name, fixtures, 2))  # warm-up, not measured
            print(f"  {name}…", flush=True)
            before = slices.open_in(*lines) if lines else 0
            results[name] = run(wrk(port, name, fixtures, duration, quiz_lines=lines))
            if lines:
                failures += _reused(name, before - slices.open_in(*lines), results[name])
            measure_baseline()
            results[name]["baseline_requests_per_second"] = round(
                (baselines[-2]["requests_per_second"] + baselines[-1]["requests_per_second"]) / 2, 1
            )
        results = {"baseline": _mean_of(baselines), **results}
        held = {}
        if hold:
            print(f"Holding concurrency 8 for {hold} s (catalogue, dashboard, quiz)…", flush=True)
            lines = slices.take(HOLD_QUIZ_SLICE)
            before = slices.open_in(*lines)
            processes = {
                "catalogue": wrk(port, "catalogue", fixtures, hold, threads=1, connections=3),
                "dashboard": wrk(port, "dashboard", fixtures, hold, threads=1, connections=3),
                "quiz_submission": wrk(
                    port, "quiz_submission", fixtures, hold, threads=1, connections=2,
                    quiz_lines=lines,
                ),
            }  # fmt: skip
            held = {name: run(process) for name, process in processes.items()}
            submitted = before - slices.open_in(*lines)
            failures += _reused("hold", submitted, held["quiz_submission"])
    finally:
        server.terminate()
        server.wait(timeout=30)
        flush_bench_redis()

    for name, (goal, _signed_in) in targets.items():
        result = results[name]
        baseline = result.get("baseline_requests_per_second", result["requests_per_second"])
        result["ratio_to_baseline"] = round(result["requests_per_second"] / baseline, 3)
        result["goal"] = goal
        result["met"] = None if goal is None else result["ratio_to_baseline"] >= goal
        result["queries_demo"] = counts["demo"][name]["queries"]
        result["queries_large"] = counts["large"][name]["queries"]
        if result["errors"]:
            failures.append(f"{name}: {result['errors']} errors {result['error_detail']}")
    hold_summary = None
    if held:
        hold_summary = {
            "seconds": hold,
            "connections": {"catalogue": 3, "dashboard": 3, "quiz_submission": 2},
            "targets": held,
            "requests_per_second": round(sum(r["requests_per_second"] for r in held.values()), 1),
            "errors": sum(r["errors"] for r in held.values()),
            "p95_ms": max(r["p95_ms"] for r in held.values()),
        }
        if hold_summary["errors"]:
            failures.append(f"hold: {hold_summary['errors']} errors")
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "server": f"gunicorn, {WORKERS} sync workers, DEBUG off, Redis cache",
        "load": f"wrk -t{THREADS} -c{CONNECTIONS} -d{duration}s after a 2 s warm-up, "
        "each target bracketed by two runs of the baseline",
        "urls": fixtures["urls"],
        "seeding": fixtures.get("seeding"),
        "database": database_sizes(),
        "targets": results,
        "hold": hold_summary,
        "failures": failures,
    }


def print_report(report: dict) -> None:
    print()
    print(f"{'target':<17}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'its B':>9}{'× B':>8}"
          f"{'goal':>7}  {'met':<5}{'errors':>7}{'queries demo→large':>20}")  # fmt: skip
    for name, r in report["targets"].items():
        goal = "" if r["goal"] is None else f"{r['goal']:.2f}"
        met = "" if r["met"] is None else ("yes" if r["met"] else "NO")
        its_baseline = r.get("baseline_requests_per_second", r["requests_per_second"])
        print(
            f"{name:<17}{r['requests_per_second']:>9.1f}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}"
            f"{its_baseline:>9.1f}{r['ratio_to_baseline']:>8.3f}{goal:>7}  {met:<5}"
            f"{r['errors']:>7}{r['queries_demo']:>12} → {r['queries_large']}"
        )
    runs = report["targets"]["baseline"].get("runs_requests_per_second", [])
    print(f"(B, the mean of {len(runs)} runs bracketing the targets: "
          f"{', '.join(f'{rate:,.0f}' for rate in runs)} req/s)")  # fmt: skip
    if report["hold"]:
        hold = report["hold"]
        print(f"\nHold, {hold['seconds']} s at concurrency 8: {hold['requests_per_second']} req/s, "
              f"{hold['errors']} errors, p95 {hold['p95_ms']} ms")  # fmt: skip
        for name, r in hold["targets"].items():
            print(f"  {name:<17}{r['requests_per_second']:>9.1f} req/s  p50 {r['p50_ms']} ms  "
                  f"p95 {r['p95_ms']} ms  errors {r['errors']}")  # fmt: skip
    for failure in report["failures"]:
        print(f"FAILURE: {failure}")
    if not report["failures"]:
        print("\nQuery counts unchanged between the demo and the large population; 0 errors.")


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    raise SystemExit(
        "wrk is missing: `apt-get install -y wrk` (Debian package), or run `make bench` as root."
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 10)))
    parser.add_argument("--hold", type=int, default=int(os.environ.get("BENCH_HOLD", 120)))
    parser.add_argument("--count-queries", metavar="DATABASE", help=argparse.SUPPRESS)
    parser.add_argument(
        "--only",
        help="comma-separated targets to measure (with the baseline), e.g. module,lesson; "
        "the report then goes to load-partial.json",
    )
    options = parser.parse_args()
    if options.count_queries:
        print(json.dumps(count_queries(options.count_queries)))
        return
    ensure_wrk()
    if not FIXTURES.exists():
        raise SystemExit("Run `python -m bench.population` first.")
    only = [name for name in (options.only or "").split(",") if name]
    unknown = sorted(set(only) - set(TARGETS))
    if unknown:
        raise SystemExit(f"Unknown targets: {', '.join(unknown)} (known: {', '.join(TARGETS)})")
    report = benchmark(options.duration, options.hold, only)
    RESULTS.mkdir(parents=True, exist_ok=True)
    output = RESULTS / ("load-partial.json" if only else "load.json")
    output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print_report(report)
    print(f"\nWritten to {output.relative_to(ROOT)}; fixtures in {VAR}.")
    sys.exit(1 if report["failures"] else 0)


if __name__ == "__main__":
    main()
