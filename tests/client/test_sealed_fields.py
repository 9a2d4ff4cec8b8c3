"""client.sealed_fields: the storage key, row keys, and sealing one field bound to its place
(ATTACKS.md L, K4, K6). The layout is checked against an independent computation with
pyca/cryptography, then every authentication path gets its negative test."""

from __future__ import annotations

import struct

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from client.sealed_fields import (
    SEALED_VERSION,
    STORAGE_KEY_SIZE,
    FieldSealer,
    SealedValueError,
    StorageKey,
    StorageKeyWipedError,
    StoreError,
    row_key,
)
from crypto.padding import padme
from tests.helpers import DeterministicRandom

KEY_BYTES = bytes(range(32))
NONCE_SIZE = 12
TAG_SIZE = 16
OVERHEAD = 1 + NONCE_SIZE + TAG_SIZE
ROW = row_key(b"\x01" * 16, b"\x02" * 16)


def _short_opaque(data: bytes) -> bytes:
    """``opaque<V>`` for fewer than 64 bytes (a one-byte length), written out independently."""
    assert len(data) < 64
    return bytes([len(data)]) + data


def _field_key(storage_key: bytes) -> bytes:
    info = _short_opaque(b"casecircle 1 LocalStoreField")
    return HKDFExpand(SHA256(), 32, info).derive(storage_key)


def _aad(table: str, column: str, row: bytes) -> bytes:
    place = b"".join(
        _short_opaque(part)
        for part in (b"casecircle 1 SealedField", table.encode(), column.encode(), row)
    )
    return bytes([SEALED_VERSION]) + place


def _forge(plaintext: bytes, table: str = "notes", column: str = "body", row: bytes = ROW) -> bytes:
    """A value sealed correctly under KEY_BYTES around an arbitrary plaintext."""
    nonce = bytes(NONCE_SIZE)
    ciphertext = AESGCM(_field_key(KEY_BYTES)).encrypt(nonce, plaintext, _aad(table, column, row))
    return bytes([SEALED_VERSION]) + nonce + ciphertext


def _sealer(seed: str = "nonces") -> FieldSealer:
    return FieldSealer(StorageKey(KEY_BYTES), DeterministicRandom(seed))


class ShortRandom:
    """A broken random source that returns fewer bytes than asked for."""

    def random_bytes(self, n: int) -> bytes:
        return bytes(max(0, n - 1))


# --- StorageKey ---------------------------------------------------------------------------


def test_storage_key_holds_exactly_32_bytes() -> None:
    assert StorageKey(KEY_BYTES).to_bytes() == KEY_BYTES
    for size in (0, 16, 31, 33, 64):
        with pytest.raises(ValueError, match="32 bytes"):
            StorageKey(bytes(size))


def test_storage_key_is_drawn_from_the_random_source() -> None:
    key = StorageKey.generate(DeterministicRandom("seed"))
    assert key.to_bytes() == DeterministicRandom("seed").random_bytes(STORAGE_KEY_SIZE)
    assert key.to_bytes() != StorageKey.generate(DeterministicRandom("other")).to_bytes()


def test_storage_key_repr_never_shows_the_key() -> None:
    key = StorageKey(KEY_BYTES)
    assert repr(key) == "StorageKey(<redacted>)"
    assert KEY_BYTES.hex() not in repr(key)
    assert KEY_BYTES.hex() not in str(key)


def test_wiped_storage_key_refuses_to_give_the_key() -> None:
    key = StorageKey(KEY_BYTES)
    wiped_before = key.wiped
    key.wipe()
    assert (wiped_before, key.wiped) == (False, True)
    assert repr(key) == "StorageKey(<wiped>)"
    with pytest.raises(StorageKeyWipedError) as caught:
        key.to_bytes()
    assert caught.value.code == "store_key_wiped"
    assert isinstance(caught.value, StoreError)
    with pytest.raises(StorageKeyWipedError):
        FieldSealer(key, DeterministicRandom())


# --- row_key ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("ab", "c"), ("a", "bc")),
        ((b"ab", b"c"), (b"a", b"bc")),
        ((7,), (b"\x07",)),
        ((7,), (b"\x00" * 7 + b"\x07",)),
        (("a",), (b"a",)),
        (("",), ()),
        ((b"",), (b"", b"")),
        ((1, 2), (2, 1)),
    ],
)
def test_row_keys_never_collide(
    a: tuple[bytes | str | int, ...], b: tuple[bytes | str | int, ...]
) -> None:
    assert row_key(*a) != row_key(*b)


def test_row_key_encoding() -> None:
    assert row_key() == b""
    assert row_key(b"xy") == b"b\x02xy"
    assert row_key("é") == b"s\x02\xc3\xa9"
    assert row_key(258) == b"i" + (258).to_bytes(8, "big")
    assert row_key((1 << 64) - 1) == b"i" + b"\xff" * 8


@pytest.mark.parametrize("part", [-1, 1 << 64, True, 1.0, None, bytearray(b"x")])
def test_row_key_refuses_other_parts(part: object) -> None:
    with pytest.raises(TypeError):
        row_key(part)  # type: ignore[arg-type]


# --- sealing ------------------------------------------------------------------------------


def test_sealed_layout_matches_the_documented_construction() -> None:
    value = b"the note text"
    sealed = _sealer("kat").seal("notes", "body", ROW, value)
    nonce = DeterministicRandom("kat").random_bytes(NONCE_SIZE)
    framed = struct.pack(">I", len(value)) + value
    plaintext = framed + bytes(padme(len(framed)) - len(framed))
    expected = (
        bytes([SEALED_VERSION])
        + nonce
        + AESGCM(_field_key(KEY_BYTES)).encrypt(nonce, plaintext, _aad("notes", "body", ROW))
    )
    assert sealed == expected
    assert _sealer().open("notes", "body", ROW, sealed) == value


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 100, 1000, 4096, 70_000])
def test_round_trip_and_padded_size(size: int) -> None:
    value = bytes((i * 7) & 0xFF for i in range(size))
    sealer = _sealer()
    sealed = sealer.seal("groups", "state", row_key(b"g"), value)
    assert len(sealed) == OVERHEAD + padme(4 + size)
    assert sealer.open("groups", "state", row_key(b"g"), sealed) == value


def test_padding_hides_the_exact_length() -> None:
    sealer = _sealer()
    sizes = {len(sealer.seal("notes", "body", ROW, bytes(n))) for n in range(990, 1020)}
    assert sizes == {OVERHEAD + 1024}


def test_each_seal_draws_a_fresh_nonce() -> None:
    sealer = FieldSealer(StorageKey(KEY_BYTES), DeterministicRandom())
    first = sealer.seal("notes", "body", ROW, b"same")
    second = sealer.seal("notes", "body", ROW, b"same")
    assert first[1:13] != second[1:13]
    assert first != second
    assert sealer.open("notes", "body", ROW, first) == sealer.open("notes", "body", ROW, second)


def test_a_short_random_source_is_refused() -> None:
    sealer = FieldSealer(StorageKey(KEY_BYTES), ShortRandom())
    with pytest.raises(ValueError, match="nonce"):
        sealer.seal("notes", "body", ROW, b"x")


def test_plaintext_does_not_appear_in_the_sealed_value() -> None:
    marker = b"CANARY-sealed-field-7f3a"
    sealed = _sealer().seal("notes", "body", ROW, marker * 4)
    assert marker not in sealed
    assert marker[:8] not in sealed


# --- bound to its place -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column", "row"),
    [
        ("outbox", "body", ROW),  # another table
        ("notes", "payload", ROW),  # another column
        ("notes", "body", row_key(b"\x01" * 16, b"\x03" * 16)),  # another row
        ("notes", "body", row_key(b"\x02" * 16, b"\x01" * 16)),  # the row key's parts swapped
        ("notes", "body", b""),
        ("notesbody", "", ROW),  # the same concatenation, cut elsewhere
    ],
)
def test_a_value_does_not_open_in_another_place(table: str, column: str, row: bytes) -> None:
    sealer = _sealer()
    sealed = sealer.seal("notes", "body", ROW, b"bound to notes.body of one row")
    with pytest.raises(SealedValueError) as caught:
        sealer.open(table, column, row, sealed)
    assert caught.value.code == "store_sealed_value"
    assert (caught.value.table, caught.value.column) == (table, column)


def test_a_value_does_not_open_under_another_storage_key() -> None:
    sealed = _sealer().seal("notes", "body", ROW, b"secret")
    other = FieldSealer(StorageKey(bytes(32)), DeterministicRandom())
    with pytest.raises(SealedValueError):
        other.open("notes", "body", ROW, sealed)


def test_every_flipped_bit_is_detected() -> None:
    sealer = _sealer()
    sealed = sealer.seal("notes", "body", ROW, b"twelve bytes")
    for index in range(len(sealed)):
        for bit in (0x01, 0x80):
            damaged = bytearray(sealed)
            damaged[index] ^= bit
            with pytest.raises(SealedValueError):
                sealer.open("notes", "body", ROW, bytes(damaged))


def test_truncated_or_extended_values_are_refused() -> None:
    sealer = _sealer()
    sealed = sealer.seal("notes", "body", ROW, b"some text")
    for cut in range(len(sealed)):
        with pytest.raises(SealedValueError):
            sealer.open("notes", "body", ROW, sealed[:cut])
    for extra in (b"\x00", b"\x00" * 16, sealed[-16:]):
        with pytest.raises(SealedValueError):
            sealer.open("notes", "body", ROW, sealed + extra)


@pytest.mark.parametrize("stored", [42, 4.5, "a sealed value written as text", None])
def test_a_value_of_another_sql_type_is_refused(stored: object) -> None:
    """Someone who can write the file can store an INTEGER, REAL or TEXT in a BLOB column."""
    with pytest.raises(SealedValueError):
        _sealer().open("notes", "body", ROW, stored)  # type: ignore[arg-type]


def test_another_format_version_is_refused() -> None:
    sealer = _sealer()
    sealed = sealer.seal("notes", "body", ROW, b"x")
    for version in (0, 2, 0xFF):
        with pytest.raises(SealedValueError):
            sealer.open("notes", "body", ROW, bytes([version]) + sealed[1:])


def test_the_forging_helper_makes_values_that_open() -> None:
    """The negative tests below rely on _forge; a good plaintext must open."""
    assert padme(4 + 5) == 10  # so "hello" is framed in 9 bytes and padded with 1
    assert _sealer().open("notes", "body", ROW, _forge(b"\x00\x00\x00\x05hello\x00")) == b"hello"


@pytest.mark.parametrize(
    "plaintext",
    [
        b"\x00\x00\x00\x05hello\x01",  # non-zero padding
        b"\x00\x00\x00\x05hello",  # too little padding (9 pads to 10)
        b"\x00\x00\x00\x05hello" + bytes(2),  # too much padding
        b"\x00\x00\x00\x00" + bytes(4),  # padding after an empty value, which has none
        b"\x00\x00\x00\x09hello\x00",  # a length beyond the plaintext
        b"\xff\xff\xff\xff" + bytes(6),
    ],
)
def test_authentic_but_malformed_plaintexts_are_refused(plaintext: bytes) -> None:
    with pytest.raises(SealedValueError):
        _sealer().open("notes", "body", ROW, _forge(plaintext))


# --- wiping -------------------------------------------------------------------------------


def test_a_wiped_sealer_neither_seals_nor_opens() -> None:
    sealer = _sealer()
    sealed = sealer.seal("notes", "body", ROW, b"x")
    sealer.wipe()
    with pytest.raises(StorageKeyWipedError):
        sealer.seal("notes", "body", ROW, b"x")
    with pytest.raises(StorageKeyWipedError):
        sealer.open("notes", "body", ROW, sealed)


def test_the_sealer_keeps_working_after_the_storage_key_is_wiped() -> None:
    """The sealer derives its own field key; wiping the profile's key object leaves an open
    database usable until it is closed (the profile closes it when it locks)."""
    key = StorageKey(KEY_BYTES)
    sealer = FieldSealer(key, DeterministicRandom())
    key.wipe()
    sealed = sealer.seal("notes", "body", ROW, b"still open")
    assert sealer.open("notes", "body", ROW, sealed) == b"still open"


def test_sealer_repr_never_shows_a_key() -> None:
    sealer = _sealer()
    assert repr(sealer) == "FieldSealer(<redacted>)"
    assert _field_key(KEY_BYTES).hex() not in repr(sealer)
