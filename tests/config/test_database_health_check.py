"""The PostgreSQL health check: a connection the server ended is replaced before a
request uses it, and a healthy one is kept without a query (config/postgresql)."""

import select
import time
from unittest import mock

import psycopg
import pytest
from django.db import connections

from tests.postgres import ONLY_ON_POSTGRES

pytestmark = [*ONLY_ON_POSTGRES, pytest.mark.django_db]


@pytest.fixture
def kept_connection():
    """A connection of its own, kept between requests as a web worker keeps it."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def next_request(wrapper) -> None:
    # What the request_started signal does to every connection.
    wrapper.close_if_unusable_or_obsolete()


def terminate(wrapper, pid: int) -> None:
    params = wrapper.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The server's farewell reaches the idle connection's socket shortly after.
    poll = select.poll()
    poll.register(wrapper.connection.pgconn.socket, select.POLLIN)
    deadline = time.monotonic() + 5
    while not poll.poll(50) and time.monotonic() < deadline:
        pass


def test_a_connection_the_server_ended_is_replaced_before_the_next_request_uses_it(
    kept_connection,
):
    first = backend_pid(kept_connection)
    terminate(kept_connection, first)

    next_request(kept_connection)

    assert backend_pid(kept_connection) != first


def test_a_healthy_connection_is_kept_without_sending_the_server_anything(kept_connection):
    first = backend_pid(kept_connection)
    raw = kept_connection.connection
    next_request(kept_connection)

    with (
        mock.patch.object(raw, "execute", side_effect=AssertionError("a query was sent")),
        mock.patch.object(raw, "cursor", side_effect=AssertionError("a query was sent")),
    ):
        kept_connection.close_if_health_check_failed()

    assert kept_connection.connection is raw
    assert kept_connection.health_check_done
    assert backend_pid(kept_connection) == first


def test_a_connection_left_inside_a_transaction_is_not_handed_to_the_next_request(
    kept_connection,
):
    kept_connection.connection.execute("BEGIN")
    raw = kept_connection.connection
    kept_connection.health_check_done = False

    kept_connection.close_if_health_check_failed()

    assert kept_connection.connection is None
    assert raw.closed
