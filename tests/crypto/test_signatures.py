"""crypto.signatures: known answers, round trips, and the refusals of ATTACKS.md E2."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.edwards448 import decode_point
from crypto.errors import InvalidKeyError, InvalidSignatureError
from crypto.signatures import (
    ECDSA_P256_SHA256,
    ECDSA_P384_SHA384,
    ECDSA_P521_SHA512,
    ED448,
    ED25519,
    SignatureScheme,
)
from tests.helpers import DeterministicRandom

ALL_SCHEMES = (ED25519, ED448, ECDSA_P256_SHA256, ECDSA_P384_SHA384, ECDSA_P521_SHA512)
ECDSA_SCHEMES = {
    ECDSA_P256_SHA256: ec.SECP256R1(),
    ECDSA_P384_SHA384: ec.SECP384R1(),
    ECDSA_P521_SHA512: ec.SECP521R1(),
}
ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493  # L, RFC 8032 §5.1
MESSAGE = b"case 2025-117: note 4"


def _name(scheme: SignatureScheme) -> str:
    return scheme.name


# --- Identities and known answers ----------------------------------------------------------


def test_tls_signature_scheme_code_points() -> None:
    assert [(s.name, s.scheme_id) for s in ALL_SCHEMES] == [
        ("ed25519", 0x0807),
        ("ed448", 0x0808),
        ("ecdsa_secp256r1_sha256", 0x0403),
        ("ecdsa_secp384r1_sha384", 0x0503),
        ("ecdsa_secp521r1_sha512", 0x0603),
    ]


@pytest.mark.parametrize(
    ("seed", "public_key", "message", "signature"),
    [
        (  # RFC 8032 §7.1, TEST 1
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (  # RFC 8032 §7.1, TEST 2
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
            "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
    ],
)
def test_ed25519_matches_rfc8032(seed: str, public_key: str, message: str, signature: str) -> None:
    key = ED25519.load_private_key(bytes.fromhex(seed))
    assert key.public_key.hex() == public_key
    assert key.to_bytes().hex() == seed
    assert key.sign(bytes.fromhex(message)).hex() == signature
    ED25519.verify(bytes.fromhex(public_key), bytes.fromhex(message), bytes.fromhex(signature))


def test_ecdsa_p256_uses_rfc6979_nonces_and_low_s() -> None:
    """RFC 6979 A.2.5, P-256 with SHA-256: same r; s is the RFC's, or n - s when that is lower."""
    key = ECDSA_P256_SHA256.load_private_key(
        bytes.fromhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
    )
    assert key.public_key.hex() == (
        "0460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
        "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"
    )
    order = ec.SECP256R1().group_order
    for message, r_hex, s_hex in (
        (
            b"sample",
            "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
            "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8",
        ),
        (
            b"test",
            "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367",
            "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083",
        ),
    ):
        r, s = decode_dss_signature(key.sign(message))
        rfc_s = int(s_hex, 16)
        assert r == int(r_hex, 16)
        assert s == min(rfc_s, order - rfc_s)
        assert key.sign(message) == key.sign(message)


# --- Round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ALL_SCHEMES, ids=_name)
def test_generate_sign_verify_round_trip(scheme: SignatureScheme) -> None:
    key = scheme.generate(DeterministicRandom(scheme.name))
    assert key.scheme == scheme
    scheme.validate_public_key(key.public_key)
    scheme.verify(key.public_key, MESSAGE, key.sign(MESSAGE))
    reloaded = scheme.load_private_key(key.to_bytes())
    assert reloaded == key
    assert reloaded.public_key == key.public_key
    assert hash(reloaded) == hash(key)
    assert scheme.generate(DeterministicRandom(scheme.name)) == key
    assert scheme.generate(DeterministicRandom("another seed")) != key


@pytest.mark.parametrize("scheme", list(ECDSA_SCHEMES), ids=_name)
def test_ecdsa_signatures_are_always_low_s(scheme: SignatureScheme) -> None:
    key = scheme.generate(DeterministicRandom(scheme.name))
    order = ECDSA_SCHEMES[scheme].group_order
    for i in range(32):  # about half of the raw RFC 6979 signatures are high-S
        _, s = decode_dss_signature(key.sign(b"message %d" % i))
        assert s <= order // 2


@pytest.mark.parametrize("scheme", list(ECDSA_SCHEMES), ids=_name)
def test_ecdsa_high_s_is_accepted_for_interoperability(scheme: SignatureScheme) -> None:
    key = scheme.generate(DeterministicRandom(scheme.name))
    r, s = decode_dss_signature(key.sign(MESSAGE))
    high = encode_dss_signature(r, ECDSA_SCHEMES[scheme].group_order - s)
    scheme.verify(key.public_key, MESSAGE, high)


def test_the_redacted_repr_shows_no_private_key() -> None:
    for scheme in ALL_SCHEMES:
        key = scheme.generate(DeterministicRandom())
        for shown in (repr(key), str(key), repr({"k": key})):
            assert key.to_bytes().hex() not in shown


# --- Refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ALL_SCHEMES, ids=_name)
def test_tampered_signatures_are_refused(scheme: SignatureScheme) -> None:
    key = scheme.generate(DeterministicRandom("signer"))
    other = scheme.generate(DeterministicRandom("someone else"))
    signature = key.sign(MESSAGE)
    for public_key, message, bad in (
        (key.public_key, MESSAGE, signature[:-1] + bytes([signature[-1] ^ 0x01])),
        (key.public_key, MESSAGE, bytes([signature[0] ^ 0x01]) + signature[1:]),
        (key.public_key, MESSAGE, signature[: len(signature) // 2]),
        (key.public_key, MESSAGE, signature[:-1]),
        (key.public_key, MESSAGE, signature + b"\x00"),
        (key.public_key, MESSAGE, b""),
        (key.public_key, MESSAGE + b".", signature),
        (other.public_key, MESSAGE, signature),
    ):
        with pytest.raises(InvalidSignatureError):
            scheme.verify(public_key, message, bad)


@pytest.mark.parametrize("scheme", ALL_SCHEMES, ids=_name)
def test_malformed_keys_are_invalid_keys(scheme: SignatureScheme) -> None:
    key = scheme.generate(DeterministicRandom())
    signature = key.sign(MESSAGE)
    for bad in (key.public_key[:-1], key.public_key + b"\x00", b""):
        with pytest.raises(InvalidKeyError):
            scheme.validate_public_key(bad)
        with pytest.raises(InvalidKeyError):
            scheme.verify(bad, MESSAGE, signature)
    private = key.to_bytes()
    for bad in (private[:-1], private + b"\x00", b""):
        with pytest.raises(InvalidKeyError):
            scheme.load_private_key(bad)


def _der_integer(value: int, *, pad: int = 0) -> bytes:
    body = value.to_bytes((value.bit_length() + 8) // 8, "big")  # minimal, sign bit clear
    body = bytes(pad) + body
    return b"\x02" + bytes([len(body)]) + body


@pytest.mark.parametrize("scheme", [ECDSA_P256_SHA256, ECDSA_P384_SHA384], ids=_name)
def test_ecdsa_accepts_only_canonical_der(scheme: SignatureScheme) -> None:
    key = scheme.generate(DeterministicRandom("der"))
    signature = key.sign(MESSAGE)
    r, s = decode_dss_signature(signature)
    order = ECDSA_SCHEMES[scheme].group_order
    body = _der_integer(r) + _der_integer(s)
    assert b"\x30" + bytes([len(body)]) + body == signature
    size = (ECDSA_SCHEMES[scheme].key_size + 7) // 8
    padded = _der_integer(r, pad=1) + _der_integer(s)  # a non-minimal INTEGER
    variants = {
        "long-form length": b"\x30\x81" + bytes([len(body)]) + body,
        "trailing byte": signature + b"\x00",
        "padded integer": b"\x30" + bytes([len(padded)]) + padded,
        "wrong tag": b"\x31" + signature[1:],
        "raw r || s": r.to_bytes(size, "big") + s.to_bytes(size, "big"),
        "r = 0": encode_dss_signature(0, s),
        "s = 0": encode_dss_signature(r, 0),
        "s = n": encode_dss_signature(r, order),
        "r = n": encode_dss_signature(order, s),
        "r + n": encode_dss_signature(r + order, s),
    }
    for bad in variants.values():
        with pytest.raises(InvalidSignatureError):
            scheme.verify(key.public_key, MESSAGE, bad)


@pytest.mark.parametrize("scheme", list(ECDSA_SCHEMES), ids=_name)
def test_ecdsa_points_must_be_uncompressed_and_on_the_curve(scheme: SignatureScheme) -> None:
    key = scheme.generate(DeterministicRandom())
    public_key = key.public_key
    size = (len(public_key) - 1) // 2
    y = int.from_bytes(public_key[1 + size :], "big")
    for bad in (
        bytes([2 + (y & 1)]) + public_key[1 : 1 + size],  # compressed: valid, not accepted
        public_key[:-1] + bytes([public_key[-1] ^ 0x01]),  # off the curve
        b"\x00",  # the point at infinity
        b"\x04" + bytes(2 * size),
    ):
        with pytest.raises(InvalidKeyError):
            scheme.verify(bad, MESSAGE, key.sign(MESSAGE))


@pytest.mark.parametrize("scheme", list(ECDSA_SCHEMES), ids=_name)
def test_ecdsa_private_scalars_must_be_in_range(scheme: SignatureScheme) -> None:
    curve = ECDSA_SCHEMES[scheme]
    size = (curve.key_size + 7) // 8
    for scalar in (0, curve.group_order, 2 ** (8 * size) - 1):
        with pytest.raises(InvalidKeyError):
            scheme.load_private_key(scalar.to_bytes(size, "big"))


class _ZeroRandom:
    def random_bytes(self, n: int) -> bytes:
        return bytes(n)


def test_ecdsa_generation_refuses_a_broken_random_source() -> None:
    with pytest.raises(InvalidKeyError):
        ECDSA_P256_SHA256.generate(_ZeroRandom())


def test_ed25519_refuses_s_not_reduced() -> None:
    """E2: S + L verifies under the plain group equation; a canonical verifier refuses it."""
    key = ED25519.generate(DeterministicRandom("malleable"))
    signature = key.sign(MESSAGE)
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + ED25519_ORDER).to_bytes(32, "little")
    with pytest.raises(InvalidSignatureError):
        ED25519.verify(key.public_key, MESSAGE, malleated)


ED25519_WEAK_KEYS = [
    bytes.fromhex(h)
    for h in (
        "0100000000000000000000000000000000000000000000000000000000000000",  # identity
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
        "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
        "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p + 1
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p
    )
]


@pytest.mark.parametrize("public_key", ED25519_WEAK_KEYS, ids=lambda k: k.hex()[:8])
def test_ed25519_refuses_small_order_and_non_canonical_keys(public_key: bytes) -> None:
    """E2: with A = R = identity and S = 0, [S]B = R + [k]A holds for every message."""
    forgery = bytes.fromhex("01" + "00" * 31) + bytes(32)
    with pytest.raises(InvalidKeyError):
        ED25519.validate_public_key(public_key)
    with pytest.raises(InvalidKeyError):
        ED25519.verify(public_key, MESSAGE, forgery)


@pytest.mark.parametrize("scheme", [ED25519, ED448], ids=lambda s: s.name)
def test_remembering_checked_keys_changes_no_verdict(scheme: SignatureScheme) -> None:
    """Keys that passed the subgroup check are remembered; a remembered key still needs a
    valid signature, and a refused key is refused every time."""
    key = scheme.generate(DeterministicRandom("remembered"))
    signature = key.sign(MESSAGE)
    for _ in range(2):
        scheme.verify(key.public_key, MESSAGE, signature)
        with pytest.raises(InvalidSignatureError):
            scheme.verify(key.public_key, MESSAGE + b"!", signature)
    weak = ED25519_WEAK_KEYS[0] if scheme is ED25519 else bytes(57)
    for _ in range(2):
        with pytest.raises(InvalidKeyError):
            scheme.validate_public_key(weak)


def test_a_key_is_not_usable_with_another_scheme() -> None:
    ed_key = ED25519.generate(DeterministicRandom())
    p256_key = ECDSA_P256_SHA256.generate(DeterministicRandom())
    with pytest.raises(InvalidKeyError):
        ECDSA_P256_SHA256.verify(ed_key.public_key, MESSAGE, ed_key.sign(MESSAGE))
    with pytest.raises(InvalidKeyError):
        ED25519.verify(p256_key.public_key, MESSAGE, p256_key.sign(MESSAGE))
    assert ed_key != p256_key


# --- Ed448 public keys (RFC 8032 §5.2.3): canonical points of the prime-order subgroup ----

ED448_P = 2**448 - 2**224 - 1


def _ed448_encode(x: int, y: int) -> bytes:
    return (y | (x & 1) << 455).to_bytes(57, "little")


ED448_SMALL_ORDER = {
    "identity (0, 1)": _ed448_encode(0, 1),
    "(0, -1), order 2": _ed448_encode(0, ED448_P - 1),
    "(1, 0), order 4": _ed448_encode(1, 0),
    "(-1, 0), order 4": _ed448_encode(ED448_P - 1, 0),
}
ED448_NON_CANONICAL = {
    "identity with x_0 = 1": _ed448_encode(1, 1),  # x = 0 has no odd form
    "(0, -1) with x_0 = 1": _ed448_encode(1, ED448_P - 1),
    "y = p": _ed448_encode(0, ED448_P),
    "y = p + 1": _ed448_encode(0, ED448_P + 1),
    "y = p + 1, x_0 = 1": _ed448_encode(1, ED448_P + 1),
    "bits 448-454 set": b"\x01" + bytes(55) + b"\x7f",
    "all ones": b"\xff" * 57,
    "y = 2, not on the curve": _ed448_encode(0, 2),  # (y^2 - 1) / (d y^2 - 1) is no square
}


def _ed448_variants_of(public_key: bytes) -> dict[str, bytes]:
    """Other byte strings for an honest key: y + p, and the key plus each small-order point."""
    x, y = decode_point(public_key)
    p = ED448_P
    return {
        "y + p": _ed448_encode(x, y + p),
        "A + (0, -1)": _ed448_encode(p - x, p - y),
        "A + (1, 0)": _ed448_encode(y, p - x),
        "A + (-1, 0)": _ed448_encode(p - y, x),
    }


@pytest.mark.parametrize(
    "public_key",
    list(ED448_SMALL_ORDER.values()) + list(ED448_NON_CANONICAL.values()),
    ids=list(ED448_SMALL_ORDER) + list(ED448_NON_CANONICAL),
)
def test_ed448_refuses_small_order_and_non_canonical_keys(public_key: bytes) -> None:
    key = ED448.generate(DeterministicRandom("ed448"))
    with pytest.raises(InvalidKeyError):
        ED448.validate_public_key(public_key)
    with pytest.raises(InvalidKeyError):
        ED448.verify(public_key, MESSAGE, key.sign(MESSAGE))
    with pytest.raises(InvalidKeyError):
        ED448.verify(public_key, MESSAGE, public_key + bytes(57))


def test_ed448_order_4_key_forgery_is_refused() -> None:
    """E2: for A = (1, 0), R = (1, 0) and S = 0, OpenSSL verifies every message."""
    weak = ED448_SMALL_ORDER["(1, 0), order 4"]
    for message in (MESSAGE, b"", b"any other message"):
        with pytest.raises(InvalidKeyError):
            ED448.verify(weak, message, weak + bytes(57))


@pytest.mark.parametrize("variant", ["y + p", "A + (0, -1)", "A + (1, 0)", "A + (-1, 0)"])
def test_ed448_a_key_has_one_encoding(variant: str) -> None:
    key = ED448.generate(DeterministicRandom("ed448"))
    other = _ed448_variants_of(key.public_key)[variant]
    assert other != key.public_key
    with pytest.raises(InvalidKeyError):
        ED448.validate_public_key(other)
    with pytest.raises(InvalidKeyError):
        ED448.verify(other, MESSAGE, key.sign(MESSAGE))


@settings(max_examples=25, deadline=None)
@given(seed=st.binary(min_size=57, max_size=57))
def test_ed448_honest_keys_decode_and_validate(seed: bytes) -> None:
    key = ED448.load_private_key(seed)
    x, y = decode_point(key.public_key)
    assert _ed448_encode(x, y) == key.public_key
    assert (x * x + y * y - 1 + 39081 * x * x * y * y) % ED448_P == 0  # on the curve, d = -39081
    ED448.validate_public_key(key.public_key)
    ED448.verify(key.public_key, MESSAGE, key.sign(MESSAGE))


@settings(max_examples=100, deadline=None)
@given(y=st.integers(min_value=0, max_value=ED448_P - 1), x_0=st.integers(0, 1))
def test_ed448_any_canonical_y_is_a_valid_key_or_an_invalid_key_error(y: int, x_0: int) -> None:
    data = _ed448_encode(x_0, y)
    try:
        ED448.validate_public_key(data)
    except InvalidKeyError:
        return
    x, decoded_y = decode_point(data)
    assert (decoded_y, x & 1) == (y, x_0)
    assert x != 0
    assert y != 0


def test_ed448_matches_rfc8032() -> None:
    """RFC 8032 §7.4, "1 octet": the key we derive, validate and verify with."""
    seed = bytes.fromhex(
        "c4eab05d357007c632f3dbb48489924d552b08fe0c353a0d4a1f00acda2c463a"
        "fbea67c5e8d2877c5e3bc397a659949ef8021e954e0a12274e"
    )
    public_key = bytes.fromhex(
        "43ba28f430cdff456ae531545f7ecd0ac834a55d9358c0372bfa0c6c6798c086"
        "6aea01eb00742802b8438ea4cb82169c235160627b4c3a9480"
    )
    signature = bytes.fromhex(
        "26b8f91727bd62897af15e41eb43c377efb9c610d48f2335cb0bd0087810f435"
        "2541b143c4b981b7e18f62de8ccdf633fc1bf037ab7cd779805e0dbcc0aae1cb"
        "cee1afb2e027df36bc04dcecbf154336c19f0af7e0a6472905e799f1953d2a0f"
        "f3348ab21aa4adafd1d234441cf807c03a00"
    )
    key = ED448.load_private_key(seed)
    assert key.public_key == public_key
    assert key.sign(b"\x03") == signature
    ED448.validate_public_key(public_key)
    ED448.verify(public_key, b"\x03", signature)
