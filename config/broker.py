"""A broker that failed is left alone for a few seconds, per process.

Each publish to a dead or hung Redis costs up to its timeouts (about a second,
config/settings.py). A request that publishes several tasks — the last lesson of
a track: the module's attestation, the track's documents, their renders, the
ledger — would pay that once per task, past the two seconds a request may wait.
After a failure, publishes within `RESTING_SECONDS` fail at once, as the first
did; callers leave their rows pending for the periodic passes, or record the
mail as undelivered, exactly as for a failed publish. In-process (eager) tasks
never touch a broker: their own errors say nothing about one.
"""

import time
from collections.abc import Callable
from typing import Any

RESTING_SECONDS = 10.0
# Shared by the threads of a process; a lost update costs one more try.
_down_until = 0.0


class BrokerResting(ConnectionError):
    """Not tried: the broker failed a moment ago in this process."""


def publish(task, send: Callable[[], Any], failures: tuple[type[BaseException], ...]) -> Any:
    """Run `send` (a publish of `task`) unless the broker failed a moment ago."""
    global _down_until
    if task.app.conf.task_always_eager:
        return send()
    if resting():
        raise BrokerResting("the broker failed a moment ago: not tried again yet")
    try:
        return send()
    except failures:
        _down_until = time.monotonic() + RESTING_SECONDS
        raise


def resting() -> bool:
    """Whether publishes fail at once in this process, the broker having failed lately."""
    return time.monotonic() < _down_until


def reset() -> None:
    """Forget a failure (tests, or a process that knows the broker is back)."""
    global _down_until
    _down_until = 0.0
