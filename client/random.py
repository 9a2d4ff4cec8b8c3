"""The client's one source of randomness for protocol use: the operating system's CSPRNG.

crypto/ and protocol/ never read the OS random source; they take a
:class:`crypto.random.RandomSource` argument (DESIGN.md §3). The client hands them a
:class:`SystemRandom`, and nothing else in client/ reads ``os.urandom``, ``secrets`` or
``random`` (``tests/client/test_random.py`` checks the sources), so every key, salt, nonce
and identifier the client makes can be traced to this class — and tests can swap in a
deterministic source in the same place.

``os.urandom`` is the kernel's CSPRNG (``getrandom(2)`` on Linux, which blocks only until
the pool is first seeded; ``BCryptGenRandom`` on Windows; ``getentropy`` on macOS).
"""

from __future__ import annotations

import os


class SystemRandom:
    """A :class:`crypto.random.RandomSource` backed by ``os.urandom``."""

    __slots__ = ()

    def random_bytes(self, n: int) -> bytes:
        """``n`` bytes from the operating system's CSPRNG."""
        if type(n) is not int or n < 0:
            raise ValueError("the number of random bytes must be a non-negative integer")
        return os.urandom(n)

    def __repr__(self) -> str:
        return "SystemRandom()"
