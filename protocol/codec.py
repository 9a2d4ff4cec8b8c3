"""TLS presentation language as profiled by RFC 9420 §2.1, strict in both directions.

Integers are big-endian ``uintN``; ``opaque x<V>`` and ``T x<V>`` vectors carry a
variable-length-integer byte count (§2.1.2)::

    prefix 00 -> 1 byte,  6-bit value        prefix 10 -> 4 bytes, 30-bit value
    prefix 01 -> 2 bytes, 14-bit value       prefix 11 -> invalid

A length must use the shortest encoding. ``optional<T>`` is a ``uint8`` presence flag
(0 or 1) followed by ``T``. Decoding rejects truncation, non-minimal lengths, invalid
presence flags, vectors whose items overrun their length, and trailing bytes — each with
:class:`~protocol.errors.DecodeError`, the only exception a decoder lets escape.
"""

from __future__ import annotations

import dataclasses
import types
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any, Protocol, Self, TypeVar

from crypto.tls import encode_varint
from protocol.errors import DecodeError

T = TypeVar("T")
E = TypeVar("E")


class Reader:
    """A cursor over bytes that reads TLS-encoded values and never reads past its end."""

    __slots__ = ("_data", "_end", "_pos")

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self._data = data
        self._pos = start
        self._end = len(data) if end is None else end

    @property
    def remaining(self) -> int:
        return self._end - self._pos

    def _take(self, n: int) -> bytes:
        pos = self._pos
        end = pos + n
        if n < 0 or end > self._end:
            raise DecodeError(f"truncated: need {n} bytes, {self.remaining} left")
        self._pos = end
        return self._data[pos:end]

    def uint(self, size: int) -> int:
        return int.from_bytes(self._take(size), "big")

    def uint8(self) -> int:
        pos = self._pos
        if pos >= self._end:
            raise DecodeError(f"truncated: need 1 bytes, {self.remaining} left")
        self._pos = pos + 1
        return self._data[pos]

    def uint16(self) -> int:
        pos = self._pos
        if pos + 2 > self._end:
            raise DecodeError(f"truncated: need 2 bytes, {self.remaining} left")
        self._pos = pos + 2
        data = self._data
        return (data[pos] << 8) | data[pos + 1]

    def uint32(self) -> int:
        return self.uint(4)

    def uint64(self) -> int:
        pos = self._pos
        end = pos + 8
        if end > self._end:
            raise DecodeError(f"truncated: need 8 bytes, {self.remaining} left")
        self._pos = end
        return int.from_bytes(self._data[pos:end], "big")

    def fixed(self, n: int) -> bytes:
        """Read exactly ``n`` raw bytes (``opaque x[n]``)."""
        return self._take(n)

    def varint(self) -> int:
        """Read a variable-length integer (§2.1.2), insisting on the minimal encoding."""
        first = self.uint8()
        if first < 64:  # the common case: a length below 64
            return first
        prefix = first >> 6
        if prefix == 3:
            raise DecodeError("invalid variable-length integer prefix")
        size = 1 << prefix
        value = first & 0x3F
        for byte in self._take(size - 1):
            value = (value << 8) | byte
        if value < (1 << (8 * (size // 2) - 2)):
            raise DecodeError("non-minimal variable-length integer")
        return value

    def opaque(self) -> bytes:
        """Read ``opaque x<V>``."""
        pos, data, limit = self._pos, self._data, self._end
        if pos < limit:
            first = data[pos]
            if first < 64:  # a one-byte length, read in place
                end = pos + 1 + first
                if end <= limit:
                    self._pos = end
                    return data[pos + 1 : end]
            elif first < 128 and pos + 2 <= limit:  # a two-byte length (64 B .. 16 KiB)
                length = ((first & 0x3F) << 8) | data[pos + 1]
                end = pos + 2 + length
                if length >= 64 and end <= limit:  # minimal, and no truncation
                    self._pos = end
                    return data[pos + 2 : end]
        return self._take(self.varint())  # the general path, with its errors

    def sub(self) -> Reader:
        """Read a vector header and return a reader confined to its body."""
        length = self.varint()
        if length > self.remaining:
            raise DecodeError(f"truncated: vector of {length} bytes, {self.remaining} left")
        inner = Reader(self._data, self._pos, self._pos + length)
        self._pos += length
        return inner

    def vector(self, item: Callable[[Reader], T]) -> list[T]:
        """Read ``T x<V>``: items until the vector's byte length is exactly consumed."""
        pos = self._pos
        if pos < self._end and not self._data[pos]:  # an empty vector: nothing to confine
            self._pos = pos + 1
            return []
        inner = self.sub()
        items: list[T] = []
        while inner.remaining:
            items.append(item(inner))
        return items

    def optional(self, item: Callable[[Reader], T]) -> T | None:
        present = self.uint8()
        if present == 0:
            return None
        if present != 1:
            raise DecodeError(f"invalid optional presence flag {present}")
        return item(self)

    def boolean(self) -> bool:
        value = self.uint8()
        if value > 1:
            raise DecodeError(f"invalid boolean {value}")
        return value == 1

    def finish(self) -> None:
        if self.remaining:
            raise DecodeError(f"{self.remaining} trailing bytes")


class Writer:
    """Accumulates a TLS encoding; refuses values that cannot be represented."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def uint(self, size: int, value: int) -> None:
        if not 0 <= value < (1 << (8 * size)):
            raise ValueError(f"value {value} does not fit in uint{8 * size}")
        self._parts.append(value.to_bytes(size, "big"))

    def uint8(self, value: int) -> None:
        self.uint(1, value)

    def uint16(self, value: int) -> None:
        self.uint(2, value)

    def uint32(self, value: int) -> None:
        self.uint(4, value)

    def uint64(self, value: int) -> None:
        self.uint(8, value)

    def fixed(self, data: bytes) -> None:
        self._parts.append(bytes(data))

    def varint(self, value: int) -> None:
        self._parts.append(encode_varint(value))

    def opaque(self, data: bytes) -> None:
        self.varint(len(data))
        self._parts.append(bytes(data))

    def vector(self, items: Iterable[E], item: Callable[[Writer, E], None]) -> None:
        inner = Writer()
        for value in items:
            item(inner, value)
        self.opaque(inner.getvalue())

    def optional(self, value: E | None, item: Callable[[Writer, E], None]) -> None:
        if value is None:
            self.uint8(0)
        else:
            self.uint8(1)
            item(self, value)

    def boolean(self, value: bool) -> None:
        self.uint8(1 if value else 0)

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


def decode_exact(data: bytes, item: Callable[[Reader], T]) -> T:
    """Decode ``data`` as exactly one value; trailing bytes are an error."""
    reader = Reader(bytes(data))
    value = item(reader)
    reader.finish()
    return value


def field_setters(cls: type, *names: str) -> tuple[Callable[[Any, Any], None], ...]:
    """The slot setters of every field of the frozen, slotted dataclass ``cls``, in order.

    For hot decoders that build such a value from fields they have already checked: its
    ``__init__`` sets each field through ``object.__setattr__`` (the price of ``frozen``)
    and then runs ``__post_init__``, which would check again what the caller knows. The
    caller must set every field and must check whatever ``__post_init__`` checks. ``names``
    must list every field in declaration order, so a field added to ``cls`` later fails
    at import rather than being left unset."""
    declared = tuple(field.name for field in dataclasses.fields(cls))
    if names != declared:
        raise TypeError(f"{cls.__name__} has the fields {declared}, not {names}")
    setters = []
    for name in names:
        slot = cls.__dict__.get(name)
        if not isinstance(slot, types.MemberDescriptorType):
            raise TypeError(f"{cls.__name__}.{name} is not a slot")
        setters.append(slot.__set__)
    return tuple(setters)


def encode_value(value: E, item: Callable[[Writer, E], None]) -> bytes:
    writer = Writer()
    item(writer, value)
    return writer.getvalue()


def write_opaque(w: Writer, data: bytes) -> None:
    """Item encoder for ``opaque<V>`` elements inside vectors."""
    w.opaque(data)


def read_opaque(r: Reader) -> bytes:
    return r.opaque()


class Codable(Protocol):
    """A TLS structure: ``encode`` into a writer and ``decode`` from a reader."""

    def encode(self, w: Writer) -> None: ...

    @classmethod
    def decode(cls, r: Reader) -> Self: ...


class Struct(ABC):
    """Base of codable structures, giving strict whole-buffer conversions."""

    __slots__ = ()

    @abstractmethod
    def encode(self, w: Writer) -> None:
        """Append this structure's TLS encoding to ``w``."""

    @classmethod
    @abstractmethod
    def decode(cls, r: Reader) -> Self:
        """Read one structure from ``r`` (which may hold more after it)."""

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        return decode_exact(data, cls.decode)

    @staticmethod
    def write(w: Writer, value: Struct) -> None:
        """Item encoder usable with :meth:`Writer.vector` / :meth:`Writer.optional`."""
        value.encode(w)
