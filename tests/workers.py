"""Real processes for fault tests: a private Redis, a TCP proxy to cut, a web server, workers.

The machine's shared Redis and PostgreSQL serve other people: tests never stop
them. They start their own `redis-server` on a free port, put a proxy between
the site and PostgreSQL, and run the site (gunicorn) and Celery workers as
subprocesses on pytest-django's test database, as production runs them.
"""

import contextlib
import http.client
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection

VENV_BIN = Path(sys.executable).parent
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


# Tests that start servers and workers run one after another on one xdist worker
# (`--dist loadgroup`): side by side, their processes would compete for the same
# two cores and the timing they assert would measure the machine, not the code.
real_processes = pytest.mark.xdist_group("real_processes")


def missing(reason: str) -> None:
    """Skip on a developer's machine, fail in CI: there a skip would hide a gap."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], bool], timeout: float, what: str, state=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}: {state()}")
        time.sleep(0.3)


def shared_database_url(host: str | None = None, port: int | None = None) -> str:
    """pytest-django's test database (not the one DATABASE_URL names), optionally via a proxy."""
    database = connection.settings_dict
    return (
        f"postgres://{database['USER']}@{host or database['HOST']}:{port or database['PORT']}/"
        f"{database['NAME']}"
    )


def logs(folder: Path, tail: int = 3000) -> str:
    return "".join(
        f"\n--- {path.name}\n{path.read_text(errors='replace')[-tail:]}"
        for path in sorted(folder.glob("*.log"))
    )


# --- Processes ---------------------------------------------------------------------


class Processes:
    """Subprocesses started by a test, each in its own process group, killed at the end."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill takes its children too
        )
        self.started.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        if process.poll() is None:
            os.killpg(process.pid, sig)
            process.wait(timeout=30)

    def kill_all(self) -> None:
        for process in self.started:
            self.kill(process)


@pytest.fixture
def processes(tmp_path) -> Processes:
    started = Processes(tmp_path)
    yield started
    started.kill_all()


def celery_worker_command(
    name: str, queue: str, concurrency: int = 2, loglevel: str = "WARNING"
) -> list[str]:
    return [
        str(VENV_BIN / "celery"),
        "-A",
        "config",
        "worker",
        "-n",
        f"{name}@%h",
        "-Q",
        queue,
        "-c",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        loglevel,
    ]


def web_server_command(port: int) -> list[str]:
    # Two threads, each with its own persistent database connection, as in production.
    return [
        str(VENV_BIN / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--threads",
        "2",
        "--timeout",
        "30",
        "--log-level",
        "warning",
    ]


def site_environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """The environment of a production-like site (debug off) on the test database.

    tests.settings only swaps the static files storage for one without a
    manifest, so that pages render without running collectstatic first.
    """
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DJANGO_DEBUG": "false",
        # The test's own key: sessions it creates (force_login) must hold in the site.
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": settings.SITE_URL,
        "SECURE_SSL_REDIRECT": "false",
        "CAMPUS_VAR_DIR": str(tmp_path / "var"),
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": shared_database_url(),
    }
    # PYTEST_XDIST_WORKER would make tests.settings move the site's Redis
    # databases and media folder as it does for an xdist worker (see there).
    for name in ("CACHE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "PYTEST_XDIST_WORKER"):
        environment.pop(name, None)
    environment.update(variables)
    return environment


def site_media_root(tmp_path: Path) -> Path:
    """Where a site started with `site_environment` stores media (see tests/settings.py)."""
    return tmp_path / "var" / "test-media"


# --- A private Redis ------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of the test's own, on a fixed port so that it can come back."""

    def __init__(self, processes: Processes, folder: Path):
        self.processes = processes
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self.process = self.processes.start("redis", command)
        wait_for(self.ping, timeout=10, what="the private Redis to answer")

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """Stopped as a crash would: no goodbye to connected clients, queued tasks lost."""
        self.processes.kill(self.process, sig)


@pytest.fixture
def private_redis(processes, tmp_path) -> PrivateRedis:
    if not Path(REDIS_SERVER).exists():
        missing(f"{REDIS_SERVER} is missing: install Debian's redis-server package.")
    folder = tmp_path / "redis"
    folder.mkdir()
    redis = PrivateRedis(processes, folder)
    redis.start()
    return redis


# --- A proxy to cut ---------------------------------------------------------------------


class TcpProxy:
    """Forwards a local port to a server; `cut()` drops every connection and refuses
    new ones, as a lost network or a database restart would; `restore()` listens again."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            doomed, self._sockets = self._sockets, set()
        listener.close()
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                selector.register(sock, selectors.EVENT_READ)
            try:
                while True:
                    for key, _ in selector.select():
                        data = key.fileobj.recv(65536)
                        if not data:
                            raise OSError("closed")
                        peers[key.fileobj].sendall(data)
            except (OSError, ValueError):
                pass
        with self._lock:
            self._sockets.difference_update(peers)
        for sock in peers:
            sock.close()


# --- A small HTTP client ---------------------------------------------------------------


class Visitor:
    """Plain HTTP with cookies kept by hand: the site runs with debug off, so its
    cookies are marked Secure, which a cookie jar would refuse to send over http."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None):
        self.port = port
        self.cookies = dict(cookies or {})

    def request(self, method: str, path: str, data: dict | None = None, timeout: float = 10):
        """(response, body, seconds taken)."""
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read().decode("utf-8", errors="replace")
        finally:
            conn.close()
        elapsed = time.monotonic() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response, content, elapsed

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs):
        data = {"csrfmiddlewaretoken": self.cookies.get(settings.CSRF_COOKIE_NAME, ""), **data}
        return self.request("POST", path, data, **kwargs)

    def log_in(self, user) -> "Visitor":
        """Carry a session made by the test client: the site shares its database."""
        from django.test import Client

        client = Client()
        client.force_login(user)
        self.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[
            settings.SESSION_COOKIE_NAME
        ].value
        return self

    def ready(self) -> bool:
        try:
            return self.get("/healthz", timeout=2)[0].status in (200, 503)
        except OSError:
            return False
