"""Django's PostgreSQL backend, with a health check that costs no round trip.

CONN_HEALTH_CHECKS makes Django send `SELECT 1` on every request's first query,
so that a connection the server closed while it sat idle (PostgreSQL restarted,
the backend terminated, a proxy cut) is replaced before a page uses it. That is
one more round trip on every page that reads the database, a tenth of a cached
learner page's time.

A server that ends a connection says so: it sends its last message (« terminating
connection… ») and closes the socket, which then becomes readable. An idle
connection of ours is sent nothing otherwise (no LISTEN, no query in flight), so
a readable socket between requests means the connection is done with, and it is
replaced; anything else, the rare harmless message included, only costs a new
connection. A peer gone silently (no closing packet) looks healthy here as it
did to `SELECT 1` until its timeout; the failing request then closes it, as
Django does after any error, and the next one connects anew.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import ConnStatus, TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is None
            or not self.health_check_enabled
            or self.health_check_done
            or self.pool
        ):
            return super().close_if_health_check_failed()
        if not self._idle_and_unspoken_to():
            self.close()
        self.health_check_done = True

    def _idle_and_unspoken_to(self) -> bool:
        pgconn = self.connection.pgconn
        if (
            self.connection.closed
            or pgconn.status != ConnStatus.OK
            or pgconn.transaction_status != TransactionStatus.IDLE
        ):
            return False
        poll = select.poll()
        poll.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poll.poll(0)
