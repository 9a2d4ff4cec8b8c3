"""Typed errors of the protocol layer (wire codec, MLS engine, casecircle messages).

The hierarchy extends :class:`crypto.errors.CasecircleError` so callers can catch one
base class across layers; each class carries a stable ``code``.

    CasecircleError
    ├── CryptoError …                (crypto/errors.py)
    └── ProtocolError
        ├── DecodeError              malformed bytes (truncated, trailing, non-minimal)
        ├── ValidationError          well-formed but violates a protocol rule
        │   ├── UnsupportedError     a version / wire format / type we do not implement
        │   ├── WrongGroupError, WrongEpochError, UnknownSenderError
        │   └── ReplayError          a generation or reuse that must never repeat
        └── InternalError            a local invariant broke (a bug, never remote input)
"""

from __future__ import annotations

from crypto.errors import CasecircleError


class ProtocolError(CasecircleError):
    """A protocol rule was broken."""

    code = "protocol"


class DecodeError(ProtocolError):
    """Bytes do not decode strictly as the expected structure."""

    code = "decode"


class ValidationError(ProtocolError):
    """A decoded structure fails a semantic check."""

    code = "validation"


class UnsupportedError(ValidationError):
    """A protocol version, wire format, or type this implementation does not support."""

    code = "unsupported"


class WrongGroupError(ValidationError):
    """A message names a group other than the one processing it."""

    code = "wrong_group"


class WrongEpochError(ValidationError):
    """A message belongs to an epoch other than the one processing it."""

    code = "wrong_epoch"


class UnknownSenderError(ValidationError):
    """The sender is not a member (or not an allowed external sender)."""

    code = "unknown_sender"


class ReplayError(ValidationError):
    """A key generation was already consumed, or is too far out of order."""

    code = "replay"


class InternalError(ProtocolError):
    """A local invariant was violated; indicates a bug, never caused by remote input."""

    code = "internal"
