"""An unreachable Redis cache is a miss, quickly, and never an error a visitor sees."""

import socket
import time

import pytest
from django.core.cache import caches
from redis.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from wagtail.models import Site

from config import cache as resilient


def _refusing_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again: connections are refused


@pytest.fixture
def dead_redis_cache(settings):
    resilient._down_until.clear()
    resilient._lost.clear()
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{_refusing_port()}/1",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    yield caches["default"]
    resilient._down_until.clear()
    resilient._lost.clear()


def test_every_cache_operation_on_a_dead_redis_is_served_as_a_miss(dead_redis_cache):
    cache = dead_redis_cache
    assert cache.get("key", "fallback") == "fallback"
    assert cache.add("key", 1) is False
    assert cache.set("key", 1) is None
    assert cache.get_or_set("key", 7) == 7
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("key") is False
    assert cache.touch("key") is False
    assert cache.delete("key") is False
    assert cache.set_many({"a": 1}) == ["a"]
    cache.delete_many(["a"])
    assert cache.count("key", 60) is None
    assert cache.count_and_get_many("key", 60, ["a"]) == (None, {})
    with pytest.raises(ValueError):
        cache.incr("key")


def test_after_a_failure_the_cache_leaves_redis_alone_for_a_while(dead_redis_cache, monkeypatch):
    dead_redis_cache.get("key")
    attempts = []
    monkeypatch.setattr(
        "django.core.cache.backends.redis.RedisCache.get",
        lambda *args, **kwargs: attempts.append(args),
    )
    started = time.monotonic()
    for _ in range(50):
        dead_redis_cache.get("key")
    assert attempts == []
    assert time.monotonic() - started < 0.5


def test_wagtail_finds_its_sites_with_the_cache_down(dead_redis_cache, db):
    # Site.get_site_root_paths reads the cache on every page served by Wagtail.
    assert Site.get_site_root_paths() is not None


def test_count_adds_one_per_call_and_the_counter_expires(live_redis_cache):
    # A real Redis: the point is its atomic counter.
    cache = live_redis_cache
    key = "count-test"
    assert [cache.count(key, 60) for _ in range(3)] == [1, 2, 3]
    assert cache.get(key) == 3
    stored = cache.make_and_validate_key(key)
    assert 0 < cache._cache.get_client(stored).ttl(stored) <= 60


def round_trips(monkeypatch) -> list:
    """Every command or pipeline sent to Redis from now on."""
    sent = []
    original = AbstractConnection.send_packed_command

    def counting(connection, command, *args, **kwargs):
        sent.append(command)
        return original(connection, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent


def test_count_and_get_many_counts_then_reads_in_one_round_trip(live_redis_cache, monkeypatch):
    cache = live_redis_cache
    cache.set_many({"entry": {"page": "<p>ok</p>"}, "generation": "g1"})
    sent = round_trips(monkeypatch)

    first = cache.count_and_get_many("counter", 60, ["entry", "generation", "missing"])
    second = cache.count_and_get_many("counter", 60, ["entry"])

    assert first == (1, {"entry": {"page": "<p>ok</p>"}, "generation": "g1"})
    assert second == (2, {"entry": {"page": "<p>ok</p>"}})
    assert len(sent) == 2
    assert cache.count_and_get_many("counter", 60, []) == (3, {})


def test_an_unreadable_entry_is_a_miss_and_the_count_stands(live_redis_cache):
    cache = live_redis_cache
    # What an entry pickled by another release may look like to this one.
    cache._cache.get_client(None, write=True).set(cache.make_and_validate_key("entry"), b"\x80junk")

    assert cache.count_and_get_many("counter", 60, ["entry"]) == (1, {})


def test_clearing_the_live_test_cache_leaves_other_keys_in_its_database(live_redis_cache):
    cache = live_redis_cache
    client = cache._cache.get_client(None, write=True)
    other = f"someone-elses-key-{time.monotonic_ns()}"
    client.set(other, b"kept", ex=60)
    cache.set("mine", 1)

    cache.clear()

    assert cache.get("mine") is None
    assert client.get(other) == b"kept"
    client.delete(other)


def test_an_invalidation_is_tried_even_while_the_cache_leaves_redis_alone(
    dead_redis_cache, monkeypatch
):
    dead_redis_cache.get("key")  # fails: the back-off window starts
    attempts = []

    def record(self, data, *args, **kwargs):
        attempts.append(dict(data))
        return []

    monkeypatch.setattr("django.core.cache.backends.redis.RedisCache.set_many", record)

    assert dead_redis_cache.set_many({"ordinary": 1}) == ["ordinary"]
    assert resilient.write_invalidation(dead_redis_cache, {"version": 2}, None) is True
    assert attempts == [{"version": 2}]


def test_a_lost_invalidation_is_reported_as_an_error(dead_redis_cache, caplog):
    assert resilient.write_invalidation(dead_redis_cache, {"version": 2}, None) is False
    assert [record.levelname for record in caplog.records if record.name == "config.cache"][
        -1
    ] == "ERROR"


def blip(cache, monkeypatch, writes: int = 1, *, landing: bool = False) -> None:
    """Redis fails the next `writes` multi-key writes, then answers again. `landing`:
    each failed write reaches Redis all the same, its reply lost (a socket timeout)."""
    original = cache._cache.set_many
    refused = iter(range(writes))

    def flaky(*args, **kwargs):
        if next(refused, None) is not None:
            if landing:
                original(*args, **kwargs)
            raise RedisConnectionError("Connection refused.")
        return original(*args, **kwargs)

    monkeypatch.setattr(cache._cache, "set_many", flaky)


def test_an_invalidation_lost_in_a_blip_is_written_before_the_process_reads_again(
    live_redis_cache, monkeypatch
):
    cache = live_redis_cache
    cache.set_many({"version": "v1", "page": ("v1", "<p>avant la révocation</p>")})
    blip(cache, monkeypatch)

    assert resilient.write_invalidation(cache, {"version": "v2"}, 600) is False
    resilient._down_until.clear()  # the back-off window is over: Redis answers again

    found = cache.get_many(["version", "page"])
    assert found["version"] not in ("v1", "v2")  # a value no entry was stored under
    assert found["page"] == ("v1", "<p>avant la révocation</p>")  # stale: never served
    assert resilient._lost == {}


def test_a_late_write_never_makes_the_failed_value_current_again(live_redis_cache, monkeypatch):
    cache = live_redis_cache
    blip(cache, monkeypatch, landing=True)
    assert resilient.write_invalidation(cache, {"generation": "g2"}, 600) is False
    # Other processes read g2 and keep pages under it; then one of them revokes.
    cache.set("page", ("g2", "<p>Certificat valide</p>"))
    cache._cache.set(cache.make_and_validate_key("generation"), "g3", 600)  # not through P1
    resilient._down_until.clear()

    assert cache.get("generation") != "g2"


def test_a_later_invalidation_of_the_same_key_supersedes_the_lost_one(
    live_redis_cache, monkeypatch
):
    cache = live_redis_cache
    blip(cache, monkeypatch)
    assert resilient.write_invalidation(cache, {"version": "v2"}, 600) is False

    assert resilient.write_invalidation(cache, {"version": "v3"}, 600) is True
    resilient._down_until.clear()

    assert cache.get("version") == "v3"  # nothing written late over it
    assert resilient._lost == {}


def test_while_a_lost_invalidation_still_cannot_be_written_the_process_reads_nothing(
    live_redis_cache, monkeypatch
):
    cache = live_redis_cache
    cache.set_many({"version": "v1", "page": ("v1", "<p>avant la révocation</p>")})
    blip(cache, monkeypatch, writes=2)
    assert resilient.write_invalidation(cache, {"version": "v2"}, 600) is False
    resilient._down_until.clear()

    # The late write fails too: a miss, not the entry the lost write was meant to end.
    assert cache.get_many(["version", "page"]) == {}
    resilient._down_until.clear()
    assert cache.get("version") not in ("v1", "v2")
    assert resilient._lost == {}


def test_a_late_write_comes_before_a_rate_limit_count_too(live_redis_cache, monkeypatch):
    cache = live_redis_cache
    cache.set("version", "v1")
    blip(cache, monkeypatch)
    assert resilient.write_invalidation(cache, {"version": "v2"}, 600) is False
    resilient._down_until.clear()

    count, found = cache.count_and_get_many("lookups", 60, ["version"])

    assert count == 1
    assert found["version"] not in ("v1", "v2")


def test_lost_invalidations_are_kept_up_to_a_bound(dead_redis_cache, monkeypatch):
    monkeypatch.setattr(resilient, "MAX_LOST", 3)
    for number in range(5):
        resilient.write_invalidation(dead_redis_cache, {f"learner-{number}": "v2"}, 600)

    (kept,) = resilient._lost.values()
    assert sorted(kept) == [dead_redis_cache.make_key(f"learner-{n}") for n in range(3)]
