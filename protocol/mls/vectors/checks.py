"""Small helpers shared by the vector handlers: hex decoding and checked comparisons."""

from __future__ import annotations

import hashlib
from typing import Any

from protocol.errors import ValidationError


class VectorMismatchError(ValidationError):
    """A value computed from a test vector differs from the value the vector states."""

    code = "vector_mismatch"


def unhex(value: str) -> bytes:
    return bytes.fromhex(value)


def expect_equal(what: str, got: Any, want: Any) -> None:
    """Raise :class:`VectorMismatchError` naming ``what`` unless ``got == want``."""
    if got != want:
        shown_got = got.hex() if isinstance(got, bytes) else got
        shown_want = want.hex() if isinstance(want, bytes) else want
        raise VectorMismatchError(f"{what}: got {shown_got!r}, want {shown_want!r}")


def expect_hex(what: str, got: bytes, want_hex: str) -> None:
    expect_equal(what, got, unhex(want_hex))


class CaseRandom:
    """Reproducible bytes for the fresh round trips a vector case asks for.

    SHA-256 in counter mode over a label; vector checks need values that are new but not
    secret, and a handler must not read the operating system's random source.
    """

    def __init__(self, label: bytes) -> None:
        self._label = label
        self._counter = 0

    def random_bytes(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            out += hashlib.sha256(self._label + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
        return bytes(out[:n])
