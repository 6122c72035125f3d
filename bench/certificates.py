"""Certificate rendering: speed and memory against a baseline measured in the same run.

    python bench/certificates.py [--renders 200] [--bulk 40]

Prints, and writes to bench/results/certificates.json:
- per-certificate render time against a trivial WeasyPrint document rendered in
  the same process (goal ≤ 2.5×);
- memory growth (resident set) over N renders after a warm-up (goal ≤ 20 MB);
- bulk throughput with 2 worker processes against serial rendering in one
  process (goal ≥ 1.6×).

It loads the demo into a throw-away SQLite database under a temporary folder, so
the certificates rendered are the demo's real ones.
"""

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TRIVIAL_HTML = "<html lang='fr'><title>Test</title><body><p>Bonjour</p></body></html>"


def setup_django(var_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["CAMPUS_VAR_DIR"] = var_dir
    # Debug off, as in production: with it on Django keeps every query in memory.
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(function, repeat: int) -> list[float]:
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        durations.append(time.perf_counter() - started)
    return durations


def _render_in_worker(args: tuple[str, list[int]]) -> int:
    var_dir, pks = args
    setup_django(var_dir)
    from certification.models import Certificate
    from certification.rendering import render_pdf

    for pk in pks:
        render_pdf(Certificate.objects.get(pk=pk))
    return len(pks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--bulk", type=int, default=40)
    options = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="campus-bench-")
    setup_django(var_dir)
    import weasyprint
    from django.core.management import call_command

    from certification.models import Certificate
    from certification.rendering import render_pdf

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    certificates = list(Certificate.objects.valid().order_by("pk"))
    certificate = next(c for c in certificates if c.award.kind == "block")

    # Warm-up: fonts, templates and caches loaded once, as in a long-lived worker.
    render_pdf(certificate)
    weasyprint.HTML(string=TRIVIAL_HTML).write_pdf(pdf_variant="pdf/ua-1")

    baseline = timed(
        lambda: weasyprint.HTML(string=TRIVIAL_HTML).write_pdf(pdf_variant="pdf/ua-1"), 20
    )
    rendering = timed(lambda: render_pdf(certificate), 20)
    ratio = statistics.median(rendering) / statistics.median(baseline)

    before = resident_mb()
    for _ in range(options.renders):
        render_pdf(certificate)
    growth = resident_mb() - before

    pks = [c.pk for c in certificates] * (options.bulk // len(certificates) + 1)
    pks = pks[: options.bulk]
    started = time.perf_counter()
    for pk in pks:
        render_pdf(Certificate.objects.get(pk=pk))
    serial = len(pks) / (time.perf_counter() - started)
    halves = [(var_dir, pks[0::2]), (var_dir, pks[1::2])]
    with ProcessPoolExecutor(max_workers=2) as pool:
        list(pool.map(_render_in_worker, [(var_dir, pks[:2]), (var_dir, pks[2:4])]))  # warm
        started = time.perf_counter()
        list(pool.map(_render_in_worker, halves))
        parallel = len(pks) / (time.perf_counter() - started)

    results = {
        "trivial_document_ms": round(statistics.median(baseline) * 1000, 1),
        "certificate_ms": round(statistics.median(rendering) * 1000, 1),
        "render_ratio": round(ratio, 2),
        "render_ratio_goal": 2.5,
        "memory_growth_mb": round(growth, 1),
        "memory_growth_renders": options.renders,
        "memory_growth_goal_mb": 20,
        "serial_certificates_per_s": round(serial, 2),
        "two_workers_certificates_per_s": round(parallel, 2),
        "bulk_ratio": round(parallel / serial, 2),
        "bulk_ratio_goal": 1.6,
        "cores": os.cpu_count(),
    }
    print("Certificate rendering (baseline: a trivial WeasyPrint document, same process)")
    print(f"  trivial document      {results['trivial_document_ms']:>8} ms")
    print(f"  certificate           {results['certificate_ms']:>8} ms   ratio {ratio:.2f} (≤ 2.5)")
    print(f"  memory over {options.renders} renders {growth:>6.1f} MB           (≤ 20)")
    print(f"  serial                {serial:>8.2f} /s")
    print(f"  2 workers             {parallel:>8.2f} /s   ratio {parallel / serial:.2f} (≥ 1.6)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "certificates.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
