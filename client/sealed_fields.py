"""Sealing one database field under the storage key (DESIGN.md §8; ATTACKS.md L, K4, K6).

The local database keeps its sensitive fields — MLS group state, notes, outbox payloads,
key-package private keys — as sealed values. Each is sealed on its own, with a fresh random
nonce, and bound to the place it is stored::

    field key  = HKDF-Expand-SHA256(storage_key, opaque("casecircle 1 LocalStoreField"), 32)
    place      = opaque("casecircle 1 SealedField") || opaque(table) || opaque(column)
                 || opaque(row key)
    plaintext  = uint32 length || value || zero bytes up to the Padmé size of (4 + length)
    sealed     = 0x01 || nonce[12] || AES-256-GCM(field key, nonce, aad = 0x01 || place,
                                                  plaintext)

**Bound to its place.** The associated data names the table, the column and the row's key,
so a sealed value copied to another row, column or table does not open there
(:class:`SealedValueError`): someone who can write the file cannot swap two notes' texts,
hand one case's group state to another, or pass an outbox payload off as a note.

**Not bound to a time.** A value replaced by an *older* sealed value of the same field of
the same row opens, and so does a whole database restored from a backup: telling old from
new would need a counter kept off the disk. The relay's sequence numbers and the MLS epoch
checks catch most such rollbacks in group state later; nothing here claims to.

**Sizes.** Values are padded to their Padmé length (at most 12 % larger, leaving O(log log n)
bits of the length), so a disk thief learns roughly how long a note is, not its exact
length. Nothing is compressed before sealing (K6).

**Nonces.** 96-bit random nonces under one key stay below a 2^-32 collision chance up to
2^32 seals (NIST SP 800-38D §8.3). A device that rewrites a group state on every message
it processes makes a few million seals a year, three orders of magnitude below that.
"""

from __future__ import annotations

import struct

from crypto.aead import AES_256_GCM
from crypto.errors import CasecircleError, InvalidTagError
from crypto.kdf import HKDF_SHA256
from crypto.padding import padme
from crypto.random import RandomSource
from crypto.tls import opaque

STORAGE_KEY_SIZE = 32
SEALED_VERSION = 1
_AEAD = AES_256_GCM
_FIELD_KEY_LABEL = b"casecircle 1 LocalStoreField"
_PLACE_LABEL = b"casecircle 1 SealedField"
_LENGTH = struct.Struct(">I")
_OVERHEAD = 1 + _AEAD.nonce_size + _AEAD.tag_size
MAX_VALUE_SIZE = (1 << 30) - 1 - _OVERHEAD - _LENGTH.size
"""SQLite's default limit on one BLOB is 1 GB; no field comes close."""


class StoreError(CasecircleError):
    """The local database could not do what was asked."""

    code = "store"


class SealedValueError(StoreError):
    """A sealed field does not open in the place it was read from: damaged, tampered with,
    moved from another row or column, or sealed under another storage key."""

    code = "store_sealed_value"

    def __init__(self, table: str, column: str) -> None:
        super().__init__(f"the sealed {table}.{column} value does not open in this row")
        self.table = table
        self.column = column


class StorageKeyWipedError(StoreError):
    """The storage key was wiped (the profile was locked)."""

    code = "store_key_wiped"


class StorageKey:
    """The 32 random bytes in the keystore that the local database is sealed under.

    ``repr`` never shows it. :meth:`wipe` drops this object's reference to the key; Python
    cannot overwrite an immutable ``bytes`` object in place, so the memory is freed, not
    zeroed, and may hold the key until the allocator reuses it.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != STORAGE_KEY_SIZE:
            raise ValueError(f"a storage key is {STORAGE_KEY_SIZE} bytes")
        self._key: bytes | None = bytes(key)

    @classmethod
    def generate(cls, rng: RandomSource) -> StorageKey:
        return cls(rng.random_bytes(STORAGE_KEY_SIZE))

    @property
    def wiped(self) -> bool:
        return self._key is None

    def to_bytes(self) -> bytes:
        """The key itself, for sealing it into the keystore payload."""
        if self._key is None:
            raise StorageKeyWipedError("the storage key was wiped when the profile was locked")
        return self._key

    def wipe(self) -> None:
        self._key = None

    def __repr__(self) -> str:
        return "StorageKey(<wiped>)" if self._key is None else "StorageKey(<redacted>)"


def row_key(*parts: bytes | str | int) -> bytes:
    """An unambiguous encoding of a row's primary key for :class:`FieldSealer`.

    Each part is tagged by type and length-prefixed, so ``("ab", "c")`` and ``("a", "bc")``,
    or the integer 7 and the bytes ``0x07``, never encode alike.
    """
    out = bytearray()
    for part in parts:
        if isinstance(part, bytes):
            out += b"b" + opaque(part)
        elif isinstance(part, str):
            out += b"s" + opaque(part.encode("utf-8"))
        elif type(part) is int and 0 <= part < 1 << 64:
            out += b"i" + part.to_bytes(8, "big")
        else:
            raise TypeError("row key parts are bytes, str or integers in 0..2^64-1")
    return bytes(out)


class FieldSealer:
    """Seals and opens field values under one storage key (see the module docstring)."""

    __slots__ = ("_key", "_rng")

    def __init__(self, storage_key: StorageKey, rng: RandomSource) -> None:
        self._key: bytes | None = HKDF_SHA256.expand(
            storage_key.to_bytes(), opaque(_FIELD_KEY_LABEL), _AEAD.key_size
        )
        self._rng = rng

    def seal(self, table: str, column: str, row: bytes, value: bytes) -> bytes:
        if len(value) > MAX_VALUE_SIZE:
            raise ValueError(f"a sealed field holds at most {MAX_VALUE_SIZE} bytes")
        nonce = self._rng.random_bytes(_AEAD.nonce_size)
        if len(nonce) != _AEAD.nonce_size:
            raise ValueError("the random source returned too few bytes for a nonce")
        framed = _LENGTH.pack(len(value)) + value
        plaintext = framed + bytes(padme(len(framed)) - len(framed))
        version = bytes([SEALED_VERSION])
        ciphertext = _AEAD.seal(
            self._field_key(), nonce, version + _place(table, column, row), plaintext
        )
        return version + nonce + ciphertext

    def open(self, table: str, column: str, row: bytes, sealed: bytes) -> bytes:
        if (
            not isinstance(sealed, bytes)  # SQLite returns whatever type was written there
            or len(sealed) < _OVERHEAD + _LENGTH.size
            or sealed[0] != SEALED_VERSION
        ):
            raise SealedValueError(table, column)
        nonce = sealed[1 : 1 + _AEAD.nonce_size]
        aad = sealed[:1] + _place(table, column, row)
        try:
            plaintext = _AEAD.open(self._field_key(), nonce, aad, sealed[1 + _AEAD.nonce_size :])
        except InvalidTagError:
            raise SealedValueError(table, column) from None
        (length,) = _LENGTH.unpack_from(plaintext)
        end = _LENGTH.size + length
        if end > len(plaintext) or len(plaintext) != padme(end) or any(plaintext[end:]):
            raise SealedValueError(table, column)
        return plaintext[_LENGTH.size : end]

    def wipe(self) -> None:
        """Drop the derived key (see :meth:`StorageKey.wipe` for what that does and does not do)."""
        self._key = None

    def _field_key(self) -> bytes:
        if self._key is None:
            raise StorageKeyWipedError("the local database was closed")
        return self._key

    def __repr__(self) -> str:
        return "FieldSealer(<redacted>)"


def _place(table: str, column: str, row: bytes) -> bytes:
    return (
        opaque(_PLACE_LABEL)
        + opaque(table.encode("utf-8"))
        + opaque(column.encode("utf-8"))
        + opaque(row)
    )
