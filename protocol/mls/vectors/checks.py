"""Small helpers shared by the vector handlers: hex decoding and checked comparisons."""

from __future__ import annotations

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
