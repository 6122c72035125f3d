"""A Redis cache that turns a Redis outage into cache misses instead of errors.

Django's RedisCache raises when Redis is unreachable, and Wagtail
(`Site.get_site_root_paths`), allauth's rate limits and our own lookups read
the cache on nearly every page: one stopped Redis would take the whole site
down. The cache only ever speeds things up or counts, so an outage is served as
a miss. After a failure Redis is left alone for a few seconds: a page that reads
the cache ten times then pays the connect timeout once, not ten times.

An invalidation (a version or generation moved on) that cannot be written is
kept by the process and written, with a new value, before anything else it
next asks of Redis: after a blip, the process never reads an entry its own
lost invalidation was meant to end, and other processes stop reading it as
soon as that process next touches the cache (its next request, typically),
not when the entry expires.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisError, OSError)
# Shared by the threads of a process (one entry per Redis location); a lost
# update only costs one more connection attempt.
_down_until: dict[str, float] = {}
# Invalidations not written yet, per Redis location: {stored key: timeout in seconds}.
# Only the keys: a late write gives each a number never used before (time_ns, as
# version keys hold; generations compare by equality only), since the value that
# failed may have reached Redis after all (a reply lost to the socket timeout),
# and entries stored under it must not become current again.
_lost: dict[str, dict[str, int | None]] = {}
_lost_lock = threading.Lock()
# A long outage touching many learners must not grow a process without bound:
# beyond this, lost invalidations are dropped, and their entries expire on their own.
MAX_LOST = 10_000


def _keep_lost(location: str, keys: list[str], timeout: int | None) -> None:
    if not keys:
        return
    dropped = []
    with _lost_lock:
        kept = _lost.setdefault(location, {})
        for key in keys:
            if key not in kept and len(kept) >= MAX_LOST:
                dropped.append(key)
            else:
                kept[key] = timeout
    if dropped:
        logger.error("Too many lost invalidations: %s served until they expire.", dropped)


def _forget_lost(location: str, keys: list[str]) -> None:
    """Keys just written: nothing to write late for them any more."""
    with _lost_lock:
        kept = _lost.get(location)
        for key in keys if kept else ():
            kept.pop(key, None)
        if kept == {}:
            del _lost[location]


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django builds a new redis.Redis for every operation, and its constructor
    (a table of some 170 response callbacks) costs more CPU than the round trip
    itself. One client per connection pool is enough: a client over a pool is
    safe to share between threads, and the pool already notices a fork."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    retry_after_seconds = 5.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    def _guarded(self, method, miss, *args, **kwargs):
        location = repr(self._servers)
        if time.monotonic() < _down_until.get(location, 0.0):
            return miss
        try:
            self._write_lost(location)
            return method(*args, **kwargs)
        except UNREACHABLE as error:
            _down_until[location] = time.monotonic() + self.retry_after_seconds
            logger.warning("Cache unreachable (%s): served as a miss for a while.", error)
            return miss

    def _write_lost(self, location: str) -> None:
        """Write the invalidations this process could not; if it still cannot, raise.

        They stay kept until written, so that no thread of this process reads
        Redis meanwhile without trying them first.
        """
        if not _lost.get(location):
            return
        with _lost_lock:
            lost = dict(_lost.get(location, {}))
        by_timeout: dict[int | None, list[str]] = {}
        for key, timeout in lost.items():
            by_timeout.setdefault(timeout, []).append(key)
        for timeout, keys in by_timeout.items():
            # Raw keys (already prefixed) and a timeout in seconds: written as kept.
            self._cache.set_many({key: time.time_ns() for key in keys}, timeout)
            _forget_lost(location, keys)
        logger.warning("Cache invalidations written late: %d (%s…)", len(lost), sorted(lost)[:3])

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(super().add, False, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._guarded(super().get, default, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._guarded(super().set, None, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(super().touch, False, key, timeout, version)

    def delete(self, key, version=None):
        return self._guarded(super().delete, False, key, version)

    def get_many(self, keys, version=None):
        return self._guarded(super().get_many, {}, keys, version)

    def has_key(self, key, version=None):
        return self._guarded(super().has_key, False, key, version)

    def incr(self, key, delta=1, version=None):
        missing = object()
        value = self._guarded(super().incr, missing, key, delta, version)
        if value is missing:
            # What a missing key raises: callers already handle it (set it afresh).
            raise ValueError(f"Key '{key}' not found (cache unreachable).")
        return value

    # add(key, 0) then incr(key), as one command.
    COUNT_SCRIPT = (
        "redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX') return redis.call('INCR', KEYS[1])"
    )

    def count(self, key, timeout, version=None):
        """Add one to a counter created with `timeout`, in one round trip (None: Redis down).

        A rate limit counting every request pays one round trip instead of the
        three of add() and incr() (which checks that the key exists first).
        """
        key = self.make_and_validate_key(key, version=version)
        client = self._cache.get_client(key, write=True)
        return self._guarded(client.eval, None, self.COUNT_SCRIPT, 1, key, int(timeout))

    def count_and_get_many(self, key, timeout, keys, version=None) -> tuple[int | None, dict]:
        """count(key, timeout), then get_many(keys), in one round trip ((None, {}): Redis down).

        A rate-limited lookup counts, then reads what it looks up: one pipeline
        instead of two round trips, counted first as before.
        """
        counter = self.make_and_validate_key(key, version=version)
        names = {self.make_and_validate_key(name, version=version): name for name in keys}
        client = self._cache.get_client(counter, write=True)

        def both():
            pipeline = client.pipeline(transaction=False)
            pipeline.eval(self.COUNT_SCRIPT, 1, counter, int(timeout))
            if names:
                pipeline.mget(list(names))
            return pipeline.execute()

        answer = self._guarded(both, None)
        if answer is None:
            return None, {}
        count, values = answer[0], answer[1] if names else []
        found = {}
        for name, value in zip(names, values, strict=True):
            if value is None:
                continue
            try:
                found[names[name]] = self._cache._serializer.loads(value)
            except Exception:
                # An entry this code cannot read (pickled by another release) is
                # a miss, and the count already made still stands.
                logger.warning("Unreadable cache entry %s served as a miss.", names[name])
        return count, found

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(super().set_many, list(data), data, timeout, version)

    def set_many_now(self, data, timeout=DEFAULT_TIMEOUT, version=None) -> list:
        """set_many tried even in the back-off window (the keys it failed to write).

        An invalidation skipped in that window would leave other processes
        serving what it was meant to end, for as long as the entries live. The
        short socket timeout still bounds what the attempt costs. What fails is
        kept and written before this process's next use of Redis.
        """
        location = repr(self._servers)
        try:
            failed = super().set_many(data, timeout, version)
        except UNREACHABLE as error:
            _down_until[location] = time.monotonic() + self.retry_after_seconds
            logger.warning("Cache unreachable (%s): an invalidation was not written.", error)
            failed = list(data)
        stored = {key: self.make_and_validate_key(key, version=version) for key in data}
        _forget_lost(location, [stored[key] for key in data if key not in failed])
        _keep_lost(location, [stored[key] for key in failed], self.get_backend_timeout(timeout))
        return failed

    def delete_many(self, keys, version=None):
        self._guarded(super().delete_many, None, keys, version)

    def clear(self):
        return self._guarded(super().clear, False)


def write_invalidation(cache, data: dict, timeout=DEFAULT_TIMEOUT) -> bool:
    """Write version keys (`data`) even while ResilientRedisCache leaves Redis alone.

    Whether every key was written: a failure is logged as an error, since other
    processes serve the entries these keys guard until this process writes them
    late (ResilientRedisCache) or they expire. Other backends (locmem in tests)
    have no back-off and write through set_many.
    """
    write = getattr(cache, "set_many_now", cache.set_many)
    try:
        failed = write(data, timeout)
    except Exception:
        failed = list(data)
    if failed:
        logger.error("Cache invalidation not written for %s: kept to be written late.", failed)
    return not failed


def of_this_release(key: str) -> str:
    """`key` for an entry only the running release may read: rendered HTML, pickled rows.

    Not for version counters, generations or rate-limit counters: every release's
    processes must see the moves the others make (config/release.py).
    """
    return f"release:{settings.CACHE_RELEASE}:{key}"
