"""Rate limits: a token bucket per key (a device, or a client address before login).

Buckets live in memory and are bounded: when the table is full, buckets that have refilled
completely (and so hold no information) are dropped first, then the oldest.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from server.errors import RateLimitedError


class TokenBuckets:
    """``rate`` tokens per second up to ``burst``; each allowed request takes one."""

    def __init__(self, rate: float, burst: float, *, max_keys: int = 100_000) -> None:
        self._rate = rate
        self._burst = burst
        self._max_keys = max_keys
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()

    def take(self, key: Hashable, now: float) -> None:
        """Spend one token of ``key``'s bucket, or raise :class:`RateLimitedError`."""
        tokens, last = self._buckets.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            raise RateLimitedError("too many requests; slow down")
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > self._max_keys:
            self._evict(now)

    def _evict(self, now: float) -> None:
        full = [
            key
            for key, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self._rate >= self._burst
        ]
        for key in full:
            del self._buckets[key]
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
