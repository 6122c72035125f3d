"""PostgreSQL connection lost: a quick, clean 503, then recovery without a restart.

The site runs as in production (gunicorn, debug off, persistent connections)
on the test database, through a TCP proxy that the test cuts (every connection
dropped, new ones refused) and restores.
"""

import pytest
from django.db import connection
from django.template import loader
from django.urls import reverse

from learners import services as learners
from tests.learners.factories import make_framework, make_module, make_track
from tests.postgres import needs_postgres
from tests.workers import (
    TcpProxy,
    Visitor,
    free_port,
    logs,
    processes,  # noqa: F401 - fixture
    real_processes,
    shared_database_url,
    site_environment,
    wait_for,
    web_server_command,
)

pytestmark = [pytest.mark.postgres, needs_postgres(), real_processes]


@pytest.fixture
def database_proxy():
    database = connection.settings_dict
    proxy = TcpProxy(database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432))
    yield proxy
    proxy.cut()


@pytest.fixture
def site(processes, database_proxy, tmp_path):  # noqa: F811 - pytest fixture injection
    port = free_port()
    database_url = shared_database_url("127.0.0.1", database_proxy.port)
    processes.start(
        "web", web_server_command(port), site_environment(tmp_path, DATABASE_URL=database_url)
    )
    visitor = Visitor(port)
    wait_for(visitor.ready, timeout=30, what="the site to start", state=lambda: logs(tmp_path))
    return visitor


# Serialized rollback: the flush after a transactional test wipes Wagtail's page tree.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_lost_database_answers_a_quick_503_and_the_site_recovers_without_a_restart(
    site, database_proxy, camille, tmp_path
):
    track = make_track(make_framework())
    module = make_module(track, "Les bases", lessons=1, targets=[("B1.1", 2)])
    learners.enrol(camille, track)
    visitor = site.log_in(camille)
    pages = [reverse("courses:catalogue"), module.url, reverse("learners:dashboard")]
    for path in pages:
        assert visitor.get(path)[0].status == 200, path

    database_proxy.cut()
    unavailable = loader.get_template("503.html").render()
    for path in pages:
        response, body, elapsed = visitor.get(path)
        assert response.status == 503, f"{path}: {response.status}\n{logs(tmp_path)}"
        assert response.headers["Retry-After"] == "30"
        assert body == unavailable, path
        assert elapsed < 2, f"{path} took {elapsed:.2f}s without a database"

    database_proxy.restore()
    # Every thread's connection died with the cut: health checks replace them.
    for _ in range(2):
        for path in pages:
            response, _, elapsed = visitor.get(path)
            assert response.status == 200, f"{path}: {response.status}\n{logs(tmp_path)}"
