"""The strict TLS codec (RFC 9420 §2.1): varints, vectors, optionals, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.codec import Reader, Writer, decode_exact, encode_value, read_opaque, write_opaque
from protocol.errors import DecodeError


def read_uint16(r: Reader) -> int:
    return r.uint16()


def write_uint16(w: Writer, value: int) -> None:
    w.uint16(value)


def varint_bytes(value: int) -> bytes:
    w = Writer()
    w.varint(value)
    return w.getvalue()


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, "00"),
        (37, "25"),
        (63, "3f"),
        (64, "4040"),
        (16383, "7fff"),
        (16384, "80004000"),
        (2**30 - 1, "bfffffff"),
    ],
)
def test_varint_boundaries(value: int, encoded: str) -> None:
    assert varint_bytes(value).hex() == encoded
    assert decode_exact(bytes.fromhex(encoded), Reader.varint) == value


@given(st.integers(min_value=0, max_value=2**30 - 1))
def test_varint_round_trip(value: int) -> None:
    assert decode_exact(varint_bytes(value), Reader.varint) == value


@pytest.mark.parametrize("value", [-1, 2**30])
def test_varint_out_of_range_is_refused_when_writing(value: int) -> None:
    with pytest.raises(ValueError, match="variable-length"):
        varint_bytes(value)


@pytest.mark.parametrize(
    "encoded",
    [
        "4000",  # 0 in two bytes
        "403f",  # 63 in two bytes
        "80000000",  # 0 in four bytes
        "80003fff",  # 16383 in four bytes
    ],
)
def test_non_minimal_varint_is_rejected(encoded: str) -> None:
    with pytest.raises(DecodeError, match="non-minimal"):
        decode_exact(bytes.fromhex(encoded), Reader.varint)


@pytest.mark.parametrize("encoded", ["c0", "c000000000000000", "ff"])
def test_prefix_0b11_is_rejected(encoded: str) -> None:
    with pytest.raises(DecodeError, match="prefix"):
        decode_exact(bytes.fromhex(encoded), Reader.varint)


@pytest.mark.parametrize(
    ("encoded", "read"),
    [
        ("", Reader.uint8),
        ("00", Reader.uint16),
        ("000000", Reader.uint32),
        ("00000000000000", Reader.uint64),
        ("40", Reader.varint),  # two-byte varint cut after its first byte
        ("800000", Reader.varint),
        ("05616263", read_opaque),  # claims 5 bytes, holds 3
        ("01", lambda r: r.optional(Reader.uint16)),
    ],
)
def test_truncation_is_rejected(encoded: str, read: object) -> None:
    with pytest.raises(DecodeError, match="truncated"):
        decode_exact(bytes.fromhex(encoded), read)  # type: ignore[arg-type]


def test_huge_claimed_length_fails_without_allocating() -> None:
    # 2^30 - 1 bytes announced, 3 present: refused before anything is sliced or built.
    reader = Reader(bytes.fromhex("bfffffff616263"))
    with pytest.raises(DecodeError, match="truncated"):
        reader.opaque()
    with pytest.raises(DecodeError, match="truncated"):
        Reader(bytes.fromhex("bfffffff00")).vector(Reader.uint8)


def test_trailing_bytes_are_rejected() -> None:
    with pytest.raises(DecodeError, match="1 trailing bytes"):
        decode_exact(bytes.fromhex("000100"), Reader.uint16)


@pytest.mark.parametrize("flag", [2, 3, 0x80, 0xFF])
def test_optional_flag_other_than_0_or_1_is_rejected(flag: int) -> None:
    with pytest.raises(DecodeError, match="presence flag"):
        decode_exact(bytes([flag, 0, 1]), lambda r: r.optional(Reader.uint16))


def test_optional_round_trip() -> None:
    def write(w: Writer, value: int | None) -> None:
        w.optional(value, write_uint16)

    def read(r: Reader) -> int | None:
        return r.optional(read_uint16)

    assert encode_value(None, write) == b"\x00"
    assert encode_value(258, write) == b"\x01\x01\x02"
    assert decode_exact(b"\x00", read) is None
    assert decode_exact(b"\x01\x01\x02", read) == 258


def test_boolean_other_than_0_or_1_is_rejected() -> None:
    assert decode_exact(b"\x01", Reader.boolean) is True
    with pytest.raises(DecodeError, match="boolean"):
        decode_exact(b"\x02", Reader.boolean)


def test_vector_item_overrunning_its_length_is_rejected() -> None:
    # A uint16 vector of 3 bytes: the second item would read past the vector's end even
    # though the buffer holds more bytes after it.
    with pytest.raises(DecodeError, match="truncated"):
        decode_exact(bytes.fromhex("030001000200"), lambda r: r.vector(read_uint16))
    # An opaque item whose own length runs past the enclosing vector.
    with pytest.raises(DecodeError, match="truncated"):
        decode_exact(bytes.fromhex("02056162636465"), lambda r: r.vector(read_opaque))


def test_vector_longer_than_the_buffer_is_rejected() -> None:
    with pytest.raises(DecodeError, match="truncated"):
        decode_exact(bytes.fromhex("0500010002"), lambda r: r.vector(read_uint16))


@given(st.lists(st.binary(max_size=70), max_size=5))
def test_vector_of_opaque_round_trip(items: list[bytes]) -> None:
    encoded = encode_value(items, lambda w, v: w.vector(v, write_opaque))
    assert decode_exact(encoded, lambda r: r.vector(read_opaque)) == items


def test_sub_reader_is_confined_to_its_vector() -> None:
    reader = Reader(bytes.fromhex("0201020304"))
    inner = reader.sub()
    assert inner.remaining == 2
    assert inner.uint16() == 0x0102
    inner.finish()
    assert reader.uint16() == 0x0304
    reader.finish()


@pytest.mark.parametrize(("size", "value"), [(1, 256), (2, 65536), (4, 2**32), (8, 2**64), (1, -1)])
def test_writer_refuses_values_that_do_not_fit(size: int, value: int) -> None:
    with pytest.raises(ValueError, match="does not fit"):
        Writer().uint(size, value)


def test_fixed_reads_exactly_n_bytes() -> None:
    reader = Reader(b"abcdef")
    assert reader.fixed(4) == b"abcd"
    with pytest.raises(DecodeError, match="truncated"):
        reader.fixed(3)


@pytest.mark.parametrize(
    "encoded",
    [
        "4000",  # an empty opaque with a two-byte length
        "403f" + "61" * 63,  # 63 bytes, two-byte length
    ],
)
def test_opaque_refuses_a_non_minimal_two_byte_length(encoded: str) -> None:
    with pytest.raises(DecodeError, match="non-minimal"):
        decode_exact(bytes.fromhex(encoded), read_opaque)


@pytest.mark.parametrize("size", [64, 65, 1000, 16383, 16384])
def test_opaque_of_every_length_class_reads_in_place_and_confined(size: int) -> None:
    data = bytes(range(256)) * (size // 256 + 1)
    encoded = encode_value(data[:size], write_opaque)
    assert decode_exact(encoded + b"", read_opaque) == data[:size]
    with pytest.raises(DecodeError, match="truncated"):
        decode_exact(encoded[:-1], read_opaque)
    # A reader confined to a vector does not read past the vector's end.
    inner = Reader(encoded + b"\x00", 0, len(encoded) - 1)
    with pytest.raises(DecodeError, match="truncated"):
        inner.opaque()


def test_empty_vector_and_uint64_read_in_place() -> None:
    reader = Reader(bytes.fromhex("00") + (2**64 - 2).to_bytes(8, "big") + b"\x01")
    assert reader.vector(Reader.uint8) == []
    assert reader.uint64() == 2**64 - 2
    assert reader.remaining == 1
    with pytest.raises(DecodeError, match="truncated"):
        Reader(bytes(7)).uint64()
    with pytest.raises(DecodeError, match="truncated"):
        Reader(bytes(8), 1).uint64()
