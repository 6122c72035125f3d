"""Personas and shared fixtures: permission tests read like a story."""

import os
import socket
import time

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import caches
from django.db import connection

from learners.models import Organisation, User
from tests.demo_rows import DemoRows
from tests.workers import missing


def make_user(email: str, full_name: str, **extra) -> User:
    user = User.objects.create_user(
        email=email, password="campus-test-password", full_name=full_name, **extra
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def signed_in_just_now(client, user: User) -> None:
    """As a sign-in through the form a moment ago: the data export and the erasure
    ask for no confirmation of identity (learners/identity_checks.py)."""
    import time

    from learners.identity_checks import CONFIRMED_KEY

    client.force_login(user)
    session = client.session
    session[CONFIRMED_KEY] = time.time()
    session.save()


@pytest.fixture
def organisation(db) -> Organisation:
    return Organisation.objects.create(
        name="Communauté de communes du Val Test",
        kind=Organisation.Kind.EPCI,
        departement="23",
        region="75",
    )


@pytest.fixture
def other_organisation(db) -> Organisation:
    return Organisation.objects.create(
        name="Commune de Testville", kind=Organisation.Kind.COMMUNE, departement="19", region="75"
    )


@pytest.fixture
def camille(db) -> User:
    """A facilitator working toward RS5142."""
    return make_user("camille@example.org", "Camille Martin", role=User.Role.FACILITATOR)


@pytest.fixture
def dominique(db) -> User:
    """A second facilitator, who must never see Camille's data."""
    return make_user("dominique@example.org", "Dominique Petit", role=User.Role.FACILITATOR)


@pytest.fixture
def karim(db) -> User:
    """A trainer who authors modules."""
    return make_user("karim@example.org", "Karim Benali", role=User.Role.TRAINER)


@pytest.fixture
def lea(db) -> User:
    """Another trainer."""
    return make_user("lea@example.org", "Léa Rousseau", role=User.Role.TRAINER)


@pytest.fixture
def sophie(db, organisation) -> User:
    """A public agent of Camille's département's EPCI."""
    return make_user(
        "sophie@example.org",
        "Sophie Lefèvre",
        role=User.Role.PUBLIC_AGENT,
        organisation=organisation,
    )


@pytest.fixture
def helene(db, organisation) -> User:
    """The manager (référente) of Sophie's organisation."""
    return make_user(
        "helene@example.org",
        "Hélène Moreau",
        role=User.Role.PUBLIC_AGENT,
        organisation=organisation,
        is_organisation_manager=True,
    )


@pytest.fixture
def marc(db, other_organisation) -> User:
    """The manager of another organisation."""
    return make_user(
        "marc@example.org",
        "Marc Girard",
        role=User.Role.PUBLIC_AGENT,
        organisation=other_organisation,
        is_organisation_manager=True,
    )


# PostgreSQL keeps the rows a rolled-back test wrote as dead tuples until a vacuum,
# and a server with autovacuum off (as this machine's is) never runs one. Wagtail's
# search backend rewrites title norms with a full scan of its index table after every
# page indexed, so each page save paid for the index rows of every test before it
# (the table reached 136 MB with no live row). A vacuum every few tests keeps it at the
# size of its live rows (none, between tests).
VACUUM_EVERY = 10
_tests_seen = 0


@pytest.fixture(autouse=True)
def _search_index_vacuumed(request, django_db_blocker):
    global _tests_seen
    _tests_seen += 1
    if connection.vendor != "postgresql" or _tests_seen % VACUUM_EVERY:
        return
    request.getfixturevalue("django_db_setup")  # the test database, not the configured one
    if connection.in_atomic_block:  # a test marked django_db is already in its transaction
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("VACUUM wagtailsearch_indexentry")


@pytest.fixture(autouse=True)
def _broker_not_resting():
    """A test that made a publish fail must not leave the next test's broker « resting »
    (config/broker.py keeps that per process)."""
    from config import broker

    broker.reset()
    yield
    broker.reset()


@pytest.fixture
def staff(db) -> User:
    """Someone of the operating team."""
    return make_user("staff@example.org", "Équipe Campus", is_staff=True, is_superuser=True)


@pytest.fixture
def demo(db):
    """The demo as `seed_demo` loads it.

    Seeding takes some ten seconds and some fifty tests want it, so each process
    seeds once and later tests get the same rows copied back (`DemoRows`), when
    their database is the one the first seeding started from. Tests in real
    transactions (browser tests) always seed: for them the seeding's on-commit
    work (PDFs) runs too.
    """
    from django.core.management import call_command

    in_test_transaction = connection.in_atomic_block
    if in_test_transaction and _demo_rows.replay():
        return
    before = DemoRows.read() if in_test_transaction and _demo_rows.empty else None
    call_command("seed_demo", verbosity=0)
    if before is not None:
        _demo_rows.record(before, DemoRows.read())


_demo_rows = DemoRows()


@pytest.fixture
def live_redis_cache(settings):
    """The default cache on a real Redis, keys prefixed per test and deleted after
    it: for what only Redis does (counters, pipelines). CACHE_URL's database, or
    one of 8 to 15 per test process. Its clear() deletes the test's keys only:
    Django's would flush a database that brokers or the bench may share."""
    from config import cache as resilient

    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    location = os.environ.get("CACHE_URL") or f"redis://127.0.0.1:6379/{8 + worker % 8}"
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        missing("needs Redis on 127.0.0.1:6379")
    resilient._down_until.clear()
    resilient._lost.clear()
    prefix = f"test-{time.monotonic_ns()}"
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
        }
    }
    cache = caches["default"]
    client = cache._cache.get_client(None, write=True)

    def clear() -> None:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)

    cache.clear = clear
    yield cache
    clear()
    resilient._down_until.clear()
    resilient._lost.clear()
