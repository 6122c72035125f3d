"""Accessibility helpers for browser tests: axe-core through axe-playwright-python,
and a reflow check that axe does not make."""

from axe_playwright_python.sync_playwright import Axe

# Impacts that fail a test. Minor and moderate findings are printed, to be read.
BLOCKING = {"serious", "critical"}
# WCAG 1.4.10 (reflow): usable at 320 CSS px wide without scrolling sideways.
NARROW = {"width": 320, "height": 640}
WIDE = {"width": 1280, "height": 720}

_axe = Axe()


def audit(page) -> list[dict]:
    """Run every axe-core rule (WCAG 2.x A/AA and best practices) on the current page."""
    return _axe.run(page).response["violations"]


def describe(where: str, violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = "; ".join(", ".join(map(str, n["target"])) for n in v["nodes"][:5])
        lines.append(f"{where}: {v['id']} ({v['impact']}, {len(v['nodes'])} nodes) {targets}")
        lines.append(f"    {v['help']}")
    return "\n".join(lines)


def overflow_at_320px(page) -> int:
    """How many CSS pixels the page is wider than a 320 px viewport (0 when it reflows)."""
    page.set_viewport_size(NARROW)
    try:
        return max(0, page.evaluate("document.documentElement.scrollWidth") - NARROW["width"])
    finally:
        page.set_viewport_size(WIDE)


def page_problems(page, where: str) -> list[str]:
    """Audit the current page: print every axe finding, return the blocking ones and
    a failure to reflow, described."""
    found = audit(page)
    if found:
        print(describe(where, found))
    problems = [describe(where, [v]) for v in found if v["impact"] in BLOCKING]
    if overflow := overflow_at_320px(page):
        problems.append(f"{where}: {overflow} px wider than a 320 px viewport (reflow)")
    return problems


def audit_pages(page, urls: list[str | tuple[str, int]]) -> list[str]:
    """Visit each URL (optionally with the HTTP status it must answer) and audit it.

    A redirect (to the login page, say) fails: the page meant was not audited.
    """
    page.set_viewport_size(WIDE)
    problems: list[str] = []
    for entry in urls:
        url, status = entry if isinstance(entry, tuple) else (entry, 200)
        response = page.goto(url)
        if response.status != status or not page.url.endswith(url):
            problems.append(f"{url}: answered {response.status} at {page.url}, not {status}")
            continue
        problems += page_problems(page, url)
    return problems
