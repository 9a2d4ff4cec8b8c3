"""Randomness is an input: crypto/ and protocol/ never read the operating system's RNG.

The client hands a :class:`RandomSource` in (backed by ``os.urandom`` there); tests hand in
a deterministic one so that runs are reproducible.
"""

from __future__ import annotations

from typing import Protocol


class RandomSource(Protocol):
    """Something that returns ``n`` uniformly random bytes."""

    def random_bytes(self, n: int) -> bytes: ...
