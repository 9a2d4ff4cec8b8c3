"""crypto.kdf: HKDF known answers (RFC 5869 Appendix A) and the length limits."""

from __future__ import annotations

import pytest

from crypto.errors import InvalidLengthError, InvalidTagError
from crypto.kdf import HKDF_SHA256, HKDF_SHA384, HKDF_SHA512, Kdf

IKM = bytes([0x0B] * 22)


def test_rfc5869_case_1() -> None:
    prk = HKDF_SHA256.extract(bytes(range(13)), IKM)
    assert prk.hex() == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
    okm = HKDF_SHA256.expand(prk, bytes(range(0xF0, 0xFA)), 42)
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_rfc5869_case_3_empty_salt_means_zero_salt() -> None:
    prk = HKDF_SHA256.extract(b"", IKM)
    assert prk.hex() == "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"
    assert prk == HKDF_SHA256.extract(bytes(32), IKM)
    okm = HKDF_SHA256.expand(prk, b"", 42)
    assert okm.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )


@pytest.mark.parametrize(
    ("kdf", "size", "hkdf_id"),
    [(HKDF_SHA256, 32, 1), (HKDF_SHA384, 48, 2), (HKDF_SHA512, 64, 3)],
)
def test_sizes_and_identifiers(kdf: Kdf, size: int, hkdf_id: int) -> None:
    assert kdf.hash_size == size
    assert kdf.hkdf_id == hkdf_id
    assert len(kdf.hash(b"")) == size
    assert len(kdf.extract(b"", b"")) == size
    assert len(kdf.mac(b"key", b"data")) == size


@pytest.mark.parametrize("kdf", [HKDF_SHA256, HKDF_SHA384, HKDF_SHA512], ids=lambda k: k.name)
def test_verify_mac_raises_on_any_mismatch(kdf: Kdf) -> None:
    tag = kdf.mac(b"key", b"data")
    kdf.verify_mac(b"key", b"data", tag)  # returns nothing: success is the absence of an error
    for key, data, bad in (
        (b"key", b"data", tag[:-1] + bytes([tag[-1] ^ 1])),
        (b"key", b"data", bytes([tag[0] ^ 0x80]) + tag[1:]),
        (b"key", b"data", tag[:-1]),
        (b"key", b"data", tag + b"\x00"),
        (b"key", b"data", b""),
        (b"key", b"other data", tag),
        (b"other key", b"data", tag),
    ):
        with pytest.raises(InvalidTagError):
            kdf.verify_mac(key, data, bad)


def test_sha256_of_empty_input() -> None:
    assert HKDF_SHA256.hash(b"").hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize("kdf", [HKDF_SHA256, HKDF_SHA384, HKDF_SHA512], ids=lambda k: k.name)
def test_expand_limits(kdf: Kdf) -> None:
    prk = kdf.extract(b"salt", b"ikm")
    assert len(kdf.expand(prk, b"", 255 * kdf.hash_size)) == 255 * kdf.hash_size
    for length in (0, -1, 255 * kdf.hash_size + 1):
        with pytest.raises(InvalidLengthError):
            kdf.expand(prk, b"", length)
    with pytest.raises(InvalidLengthError):
        kdf.expand(prk[:-1], b"", 16)


@pytest.mark.parametrize("kdf", [HKDF_SHA256, HKDF_SHA384, HKDF_SHA512], ids=lambda k: k.name)
@pytest.mark.parametrize("prk_size", [0, 1, 64, 129, 200])
@pytest.mark.parametrize("length", [1, 12, 16, 32, 48, 64, 65, 200])
def test_expander_is_expand(kdf: Kdf, prk_size: int, length: int) -> None:
    """The HMAC with its pads hashed once gives HKDF-Expand's bytes, for keys shorter than,
    as long as and longer than the hash's block, and for one block or several."""
    prk = bytes((7 * i + 3) % 256 for i in range(prk_size + kdf.hash_size))
    for head in (b"", b"\x00\x10" + b"label" * 20):
        expander = kdf.expander(prk, head, length)
        for tail in (b"", b"\x10" + bytes(range(16)), b"t" * 300):
            assert expander.expand(tail) == kdf.expand(prk, head + tail, length)


@pytest.mark.parametrize("kdf", [HKDF_SHA256, HKDF_SHA384, HKDF_SHA512], ids=lambda k: k.name)
def test_expander_refuses_what_expand_refuses(kdf: Kdf) -> None:
    prk = kdf.extract(b"salt", b"ikm")
    for length in (0, -1, 255 * kdf.hash_size + 1):
        with pytest.raises(InvalidLengthError):
            kdf.expander(prk, b"", length)
    for short in (b"", prk[:-1]):
        with pytest.raises(InvalidLengthError):
            kdf.expander(short, b"", 16)
