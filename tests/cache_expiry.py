"""How long cache entries have left, on either backend the suite may run on
(local memory by default, Redis with CACHE_URL)."""

import time
from collections.abc import Callable

from django.core.cache import cache


def seconds_left_of(matching: Callable[[str], bool]) -> list[float]:
    """Seconds left for each stored key (as stored: prefix and version included) matching."""
    if hasattr(cache, "_expire_info"):  # the local-memory cache
        now = time.time()
        return [expiry - now for key, expiry in cache._expire_info.items() if matching(key)]
    client = cache._cache.get_client(None)
    stored = (key.decode() for key in client.scan_iter("*"))
    return [client.ttl(key) for key in stored if matching(key)]


def seconds_left(key: str) -> float | None:
    """Seconds left for `key`, None when it is not stored."""
    stored = cache.make_and_validate_key(key)
    left = seconds_left_of(lambda candidate: candidate == stored)
    return left[0] if left else None
