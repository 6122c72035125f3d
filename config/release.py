"""Which release of the code is running, as a short stamp for the shared cache's keys.

The shared cache keeps whole rendered pages and fragments for minutes. After a
deploy, an entry the previous release rendered would still be served: its old
markup, its links to static files under hashed names the new release no longer
ships (an unstyled page), or model instances pickled with fields that changed.
Keys carry the release instead, so a new release starts on an empty namespace
and the old entries expire on their own.

Every process of a release must compute the same stamp, the Celery workers
included: their invalidations must reach the keys the web processes read. So
it depends only on what the release ships (the project's sources, templates,
static sources and translations, and the versions of Django and Wagtail),
never on files a machine generates (collected static files, compiled
messages). `CAMPUS_RELEASE` replaces it when the deployment names its
releases itself (an image tag, a commit); set it on every process or on none.
"""

import hashlib
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

# What a release's pages are made of. Sources of generated files only: .po, not .mo.
SHIPPED = ("config", "courses", "learners", "certification", "templates", "static", "locale")
SKIPPED_SUFFIXES = (".pyc", ".mo")
DISTRIBUTIONS = ("django", "wagtail")


def _distribution_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def code_stamp(base_dir: Path) -> str:
    """A digest of the files that shape the cached pages, in a stable order."""
    digest = hashlib.sha256()
    for name in DISTRIBUTIONS:
        digest.update(f"{name}={_distribution_version(name)}\n".encode())
    for top in SHIPPED:
        for path in sorted((base_dir / top).rglob("*")):
            if not path.is_file() or path.suffix in SKIPPED_SUFFIXES or "__pycache__" in path.parts:
                continue
            digest.update(path.relative_to(base_dir).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def release_stamp(base_dir: Path) -> str:
    """`CAMPUS_RELEASE` if the deployment sets it, else the digest of the shipped code."""
    return os.environ.get("CAMPUS_RELEASE", "").strip() or code_stamp(base_dir)
