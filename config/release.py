"""Which release of the code is running, as a short stamp for the shared cache's keys.

The shared cache keeps whole rendered pages and fragments for minutes. After a
deploy, an entry the previous release rendered would still be served: its old
markup, its links to static files under hashed names the new release no longer
ships (an unstyled page), or model instances pickled with fields that changed.
The keys of such entries carry the release (`config.cache.of_this_release`), so
a new release starts without them and the old ones expire on their own.

Version counters, generations and rate-limit counters do not carry it: while
two releases run side by side (a rolling restart, a worker finishing its task),
a revocation or a publication made by one must still end what the other keeps.

The stamp depends only on what the release ships (the project's sources,
templates, static sources and translations, and the versions of Django and
Wagtail), never on files a machine generates (collected static files,
compiled messages, bytecode, editors' leftovers), so that web and worker
processes of one release agree. `CAMPUS_RELEASE` replaces it when the
deployment names its releases itself (an image tag, a commit).
"""

import hashlib
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

# What a release's pages are made of: the kinds of files the project ships, and of
# translations their source (.po), not what compilemessages makes of it.
SHIPPED = ("config", "courses", "learners", "certification", "templates", "static", "locale")
SHIPPED_SUFFIXES = frozenset({".py", ".html", ".txt", ".css", ".js", ".svg", ".ttf", ".po", ".md"})
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
            if path.suffix not in SHIPPED_SUFFIXES or path.name.startswith("."):
                continue
            try:
                content = path.read_bytes()
            except (FileNotFoundError, IsADirectoryError):
                continue  # gone since the listing (a checkout in progress), or a folder
            digest.update(path.relative_to(base_dir).as_posix().encode() + b"\0")
            digest.update(content)
    return digest.hexdigest()[:12]


def release_stamp(base_dir: Path) -> str:
    """`CAMPUS_RELEASE` if the deployment sets it, else the digest of the shipped code."""
    return os.environ.get("CAMPUS_RELEASE", "").strip() or code_stamp(base_dir)
