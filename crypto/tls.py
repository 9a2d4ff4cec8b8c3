"""The two TLS-encoding rules crypto/ needs for RFC 9420 §5 labels (protocol/codec has the rest).

Kept here, at the lowest layer, so the labeled functions can build ``KDFLabel``,
``SignContent`` and ``EncryptContext`` without importing the protocol layer.
"""

from __future__ import annotations

VARINT_MAX = (1 << 30) - 1
_SHORT = tuple(bytes((n,)) for n in range(64))  # the one-byte encodings, made once


def encode_varint(value: int) -> bytes:
    """The minimal RFC 9420 §2.1.2 variable-length encoding of ``value``."""
    if 0 <= value < 64:
        return _SHORT[value]
    if value < 0 or value > VARINT_MAX:
        raise ValueError(f"{value} cannot be encoded as an MLS variable-length integer")
    if value < 1 << 14:
        return (value | 0x4000).to_bytes(2, "big")
    return (value | 0x8000_0000).to_bytes(4, "big")


def opaque(data: bytes) -> bytes:
    """``opaque x<V>``: a variable-length-integer length, then the bytes."""
    size = len(data)
    head = _SHORT[size] if size < 64 else encode_varint(size)
    return head + (data if type(data) is bytes else bytes(data))
