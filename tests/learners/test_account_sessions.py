"""A sign-in session brings its account's row in the same query, and Django still decides.

learners/account_sessions.py: the session's row carries the account it signs
in; the account read with it is taken only when Django's check would accept it
as it stands, everything else goes through `django.contrib.auth.get_user`.
"""

import threading

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.db import connections
from django.db.backends.base.operations import BaseDatabaseOperations
from django.test import Client, RequestFactory
from django.urls import reverse

from learners import account_sessions
from learners.account_sessions import AccountSession, SessionStore, get_user

DASHBOARD = "/moi/parcours/"


def _request_with_session(session_key: str):
    request = RequestFactory().get(DASHBOARD)
    request.session = SessionStore(session_key)
    return request


def test_the_session_setting_names_the_store_that_keeps_accounts():
    assert settings.SESSION_ENGINE == "learners.account_sessions"


def test_signing_in_records_the_account_on_the_session_row(client, camille):
    client.force_login(camille)

    row = AccountSession.objects.get(session_key=client.session.session_key)
    assert row.account_id == camille.pk


def test_who_asks_is_answered_by_one_query(client, camille, django_assert_num_queries):
    client.force_login(camille)
    request = _request_with_session(client.session.session_key)

    with django_assert_num_queries(1):
        user = get_user(request)

    assert user == camille
    assert user.is_authenticated


def test_a_changed_password_signs_the_old_session_out(client, camille):
    client.force_login(camille)
    assert client.get(DASHBOARD).status_code == 200

    camille.set_password("un-tout-nouveau-mot-de-passe")
    camille.save()

    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    # Django's own path flushed the session: its row is gone.
    assert not AccountSession.objects.filter(account=camille).exists()


def test_a_deactivated_account_is_signed_out(client, camille):
    client.force_login(camille)
    camille.is_active = False
    camille.save()

    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_a_session_without_its_account_still_signs_in_through_django(
    client, camille, django_assert_num_queries
):
    client.force_login(camille)
    key = client.session.session_key
    AccountSession.objects.filter(session_key=key).update(account=None)
    request = _request_with_session(key)

    # The session's row, then the account's, as Django alone would read them.
    with django_assert_num_queries(2):
        user = get_user(request)

    assert user == camille


def test_a_session_naming_someone_else_than_its_row_is_left_to_django(client, camille, dominique):
    client.force_login(camille)
    key = client.session.session_key
    AccountSession.objects.filter(session_key=key).update(account=dominique)

    user = get_user(_request_with_session(key))

    # The session's own data decides, as it always did.
    assert user == camille


def test_a_session_whose_hash_does_not_match_is_flushed_by_django(client, camille):
    client.force_login(camille)
    store = SessionStore(client.session.session_key)
    store[HASH_SESSION_KEY] = "not-the-account-hash"
    store.save()

    user = get_user(_request_with_session(store.session_key))

    assert not user.is_authenticated
    assert not AccountSession.objects.filter(session_key=store.session_key).exists()


def test_logging_out_deletes_the_session_row(camille):
    browser = Client()
    browser.force_login(camille)
    key = browser.session.session_key

    browser.post(reverse("account_logout"))

    assert not AccountSession.objects.filter(session_key=key).exists()
    assert browser.get(DASHBOARD).status_code == 302


def test_signing_in_as_someone_else_moves_the_row_to_that_account(client, camille, dominique):
    client.force_login(camille)
    client.force_login(dominique)

    row = AccountSession.objects.get(session_key=client.session.session_key)
    assert row.account_id == dominique.pk
    assert get_user(_request_with_session(row.session_key)) == dominique


def test_deleting_an_account_deletes_its_sessions(client, camille):
    client.force_login(camille)
    key = client.session.session_key

    camille.delete()

    assert not AccountSession.objects.filter(session_key=key).exists()


@pytest.mark.django_db
def test_the_migration_keeps_open_sessions_signed_in(camille, dominique):
    module = __import__("learners.migrations.0007_account_sessions", fromlist=["keep_signed_in"])
    old = DjangoSessionStore()
    old[SESSION_KEY] = str(camille.pk)
    old["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    old[HASH_SESSION_KEY] = camille.get_session_auth_hash()
    old.create()
    gone = DjangoSessionStore()
    gone[SESSION_KEY] = "999999"
    gone.create()
    anonymous = DjangoSessionStore()
    anonymous["django_language"] = "en"
    anonymous.create()

    expired = DjangoSessionStore()
    expired.set_expiry(-60)
    expired["django_language"] = "en"
    expired.create()
    open_keys = {old.session_key, gone.session_key, anonymous.session_key}

    module.keep_signed_in(apps, None)

    copied = {row.session_key: row for row in AccountSession.objects.all()}
    assert set(copied) == open_keys
    # The old table is emptied: a logout there could not leave a copy alive here.
    assert not Session.objects.exists()
    assert copied[old.session_key].account_id == camille.pk
    assert copied[gone.session_key].account_id is None
    assert copied[anonymous.session_key].account_id is None
    # The copied session still signs Camille in, through the new store.
    assert get_user(_request_with_session(old.session_key)) == camille


def test_the_account_read_with_the_session_is_the_account_the_orm_reads(
    client, sophie, organisation
):
    sophie.job_title = "Chargée de mission tiers-lieux"
    sophie.is_organisation_manager = True
    sophie.save()
    client.force_login(sophie)

    store = SessionStore(client.session.session_key)
    store.load()

    fresh = type(sophie).objects.get(pk=sophie.pk)
    for field in type(sophie)._meta.concrete_fields:
        assert getattr(store.account, field.attname) == getattr(fresh, field.attname), field.name
    # Types as the ORM gives them (SQLite hands dates back as text otherwise).
    assert store.account.date_joined == fresh.date_joined
    assert store.account.date_joined.tzinfo is not None
    assert store.account.is_active is True
    assert store.account.organisation == organisation
    assert not store.account._state.adding


def test_an_expired_session_signs_nobody_in(client, camille):
    client.force_login(camille)
    key = client.session.session_key
    AccountSession.objects.filter(session_key=key).update(expire_date="2020-01-01T00:00:00Z")

    store = SessionStore(key)

    assert store.load() == {}
    assert store.session_key is None
    assert not get_user(_request_with_session(key)).is_authenticated


def test_sessions_are_signed_as_djangos_database_store_signs_them():
    # The salt is the store's class name: renaming the class would sign everyone out,
    # and the sessions copied by migration 0007 were signed by Django's own store.
    assert SessionStore().key_salt == DjangoSessionStore().key_salt


def test_each_connection_reads_accounts_with_converters_of_its_own():
    # Threads have connections of their own: converters bound to another
    # thread's connection would read with that connection's settings.
    found = {}

    def in_another_thread() -> None:
        connection = connections["default"]
        found["connection"], found["lookup"] = connection, account_sessions._lookup(connection)

    thread = threading.Thread(target=in_another_thread)
    thread.start()
    thread.join()
    here = connections["default"]

    assert found["connection"] is not here
    assert account_sessions._lookup(here) is account_sessions._lookup(here)
    assert account_sessions._lookup(here) is not found["lookup"]
    for connection, lookup in (
        (here, account_sessions._lookup(here)),
        (found["connection"], found["lookup"]),
    ):
        bound = [
            convert.__self__
            for _column, converters in lookup[4]
            for convert in converters
            if isinstance(getattr(convert, "__self__", None), BaseDatabaseOperations)
        ]
        assert all(operations is connection.ops for operations in bound)
