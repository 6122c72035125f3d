"""Sign-in sessions stored with their account, so that one query answers « who asks ».

Sessions stay in the database (config/settings.py says why), and Django then
reads two rows on every signed-in request: the session's, then the account's.
Here the session's row carries the account it signs in, and the account's row
comes back in the same query. The middleware below hands that row to
Django's own check only when the check would pass without anything more to do;
any other case (an older session without the column, another backend, a hash
to upgrade or refuse) is left to `django.contrib.auth.get_user`, unchanged.

The lookup is one SQL statement written once per connection, not a queryset:
compiling the ORM's join and building its objects cost twice the query's own
round trip, on every signed-in request (bench/load.py, docs/performance.md).
"""

import weakref

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.base_session import AbstractBaseSession, BaseSessionManager
from django.db import connections, models, router
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _


class AccountSession(AbstractBaseSession):
    # Set from the session's own data on every save: a session that signs
    # nobody in (or someone else, after a login) never keeps a stale account.
    # No database constraint: a save racing the account's deletion (or a copied
    # session of a deleted account) must not fail, let alone loop in create();
    # the ORM still deletes an account's sessions with it, and a missing account
    # just leaves the check to Django.
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        db_constraint=False,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("account"),
    )

    objects = BaseSessionManager()

    class Meta(AbstractBaseSession.Meta):
        db_table = "learners_account_session"
        verbose_name = _("sign-in session")
        verbose_name_plural = _("sign-in sessions")

    @classmethod
    def get_session_store_class(cls):
        return SessionStore


class SessionStore(DatabaseSessionStore):
    """Django's database store, keeping the account row read with the session."""

    def __init__(self, session_key=None):
        super().__init__(session_key)
        self.account = None

    @classmethod
    def get_model_class(cls):
        return AccountSession

    def load(self):
        found = _session_and_account(self.session_key, router.db_for_read(self.model))
        if found is None:
            # What Django's store does for a missing or expired session.
            self._session_key = None
            self.account = None
            return {}
        session_data, self.account = found
        return self.decode(session_data)

    def create_model_instance(self, data):
        row = super().create_model_instance(data)
        row.account_id = data.get(SESSION_KEY)
        return row

    async def acreate_model_instance(self, data):
        row = await super().acreate_model_instance(data)
        row.account_id = data.get(SESSION_KEY)
        return row


# Per connection object, not per alias: the converters are bound to one
# connection's operations, and each thread has its own connection. Entries go
# with their connection.
_lookups: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _lookup(connection):
    """The statement, and how to turn its account columns into an account, on `connection`."""
    found = _lookups.get(connection)
    if found is None:
        found = _lookups[connection] = _statement_for(connection)
    return found


def _statement_for(connection):
    quote = connection.ops.quote_name
    account_model = AccountSession._meta.get_field("account").related_model
    fields = account_model._meta.concrete_fields
    table = quote(account_model._meta.db_table)
    columns = ", ".join(f"a.{quote(field.column)}" for field in fields)
    session = {name: quote(AccountSession._meta.get_field(name).column) for name in (
        "session_data", "account", "session_key", "expire_date"
    )}  # fmt: skip
    # Only quoted table and column names go in: the key and the time are parameters.
    sql = (
        f"SELECT s.{session['session_data']}, {columns} "  # noqa: S608
        f"FROM {quote(AccountSession._meta.db_table)} s "
        f"LEFT JOIN {table} a "
        f"ON a.{quote(account_model._meta.pk.column)} = s.{session['account']} "
        f"WHERE s.{session['session_key']} = %s AND s.{session['expire_date']} > %s"
    )
    # The converters the ORM applies to these columns (dates on SQLite, for one).
    converters = []
    for field in fields:
        column = field.get_col(account_model._meta.db_table)
        converters.append(
            (column, connection.ops.get_db_converters(column) + field.get_db_converters(connection))
        )
    attnames = [field.attname for field in fields]
    return sql, account_model, attnames, attnames.index(account_model._meta.pk.attname), converters


def _session_and_account(session_key: str | None, alias: str):
    """(session data, account or None) of a session still open, or None."""
    if not session_key:
        return None
    connection = connections[alias]
    sql, account_model, attnames, pk_position, converters = _lookup(connection)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [session_key, now])
        row = cursor.fetchone()
    if row is None:
        return None
    session_data, values = row[0], list(row[1:])
    if values[pk_position] is None:
        return session_data, None
    for position, (column, field_converters) in enumerate(converters):
        for convert in field_converters:
            values[position] = convert(values[position], column, connection)
    return session_data, account_model.from_db(alias, attnames, values)


def _account_read_with_session(request: HttpRequest):
    """The session's account when Django's check would accept it as it stands, else None."""
    session = request.session
    try:
        user_id, backend_path = session[SESSION_KEY], session[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    # Read once the session is loaded (by the lines above).
    account = getattr(session, "account", None)
    if account is None or str(account.pk) != str(user_id):
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    # Only a backend whose get_user() is ModelBackend's (allauth's is) reads what
    # the join read; its user_can_authenticate() refuses an inactive account.
    backend = auth.load_backend(backend_path)
    if type(backend).get_user is not ModelBackend.get_user:
        return None
    if not backend.user_can_authenticate(account):
        return None
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash or not constant_time_compare(session_hash, account.get_session_auth_hash()):
        return None
    return account


def get_user(request: HttpRequest):
    if not hasattr(request, "_cached_user"):
        request._cached_user = _account_read_with_session(request) or auth.get_user(request)
    return request._cached_user


class AccountSessionAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's AuthenticationMiddleware, taking the account read with the session."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))
