"""Test doubles shared across the test suite."""

from __future__ import annotations

import hashlib
import random


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


BOUNDARY_BYTES = (0x00, 0x01, 0x02, 0x03, 0x04, 0x3F, 0x40, 0x7F, 0x80, 0xBF, 0xC0, 0xFF)
"""Bytes where TLS decoders branch: varint prefixes and their limits, presence flags, small
enum values."""


def mutate(seed: bytes, rnd: random.Random) -> bytes:
    """One to four edits of ``seed``: bit flip, truncation, insertion, deletion, or a
    boundary byte (varint prefixes, presence flags) written over one position."""
    data = bytearray(seed)
    for _ in range(rnd.randint(1, 4)):
        position = rnd.randint(0, len(data))
        match rnd.choice(("flip", "truncate", "insert", "delete", "overwrite")):
            case "flip" if data:
                data[min(position, len(data) - 1)] ^= 1 << rnd.randrange(8)
            case "truncate":
                del data[position:]
            case "insert":
                data[position:position] = rnd.randbytes(rnd.randint(1, 8))
            case "delete":
                del data[position : position + rnd.randint(1, 8)]
            case _:
                data[position : position + 1] = bytes([rnd.choice(BOUNDARY_BYTES)])
    return bytes(data)
