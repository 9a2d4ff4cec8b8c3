"""Test doubles shared across the test suite."""

from __future__ import annotations

import hashlib


class DeterministicRandom:
    """A seeded :class:`crypto.random.RandomSource`: SHA-256 in counter mode, reproducible.

    Block i is SHA-256(seed || uint64 i); each call takes fresh blocks, so two sources with
    the same seed return the same bytes for the same sequence of calls.
    """

    def __init__(self, seed: bytes | str = b"casecircle tests") -> None:
        self._seed = seed.encode() if isinstance(seed, str) else bytes(seed)
        self._counter = 0

    def random_bytes(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            block = self._seed + self._counter.to_bytes(8, "big")
            out += hashlib.sha256(block).digest()
            self._counter += 1
        return bytes(out[:n])
