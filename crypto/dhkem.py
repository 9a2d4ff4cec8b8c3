"""DH-based KEMs of RFC 9180 §4.1 and §7.1, written on ``cryptography``'s X25519/X448/ECDH.

MLS (RFC 9420 §5.1) needs what a sealed HPKE library does not offer: DeriveKeyPair (§7.1.3,
for tree and external keys) and randomness taken as an input, so that protocol/ stays
deterministic under test. Hence the KEM is built here from the RFC:

    Encap(pkR):      (skE, pkE) = DeriveKeyPair(ikmE), ikmE = Nsk random bytes
                     enc = SerializePublicKey(pkE)
                     shared_secret = ExtractAndExpand(DH(skE, pkR), enc || pkRm)
    Decap(enc, skR): shared_secret = ExtractAndExpand(DH(skR, enc), enc || pkRm)
    ExtractAndExpand(dh, ctx) = LabeledExpand(LabeledExtract("", "eae_prk", dh),
                                              "shared_secret", ctx, Nsecret)

with suite_id = "KEM" || I2OSP(kem_id, 2). Keys are serialized as §7.1.1-7.1.2 say: X25519
and X448 as raw RFC 7748 bytes; NIST curves as an uncompressed SEC1 point and a big-endian
scalar of Nsk bytes.

Peer input is checked (§7.1.4) and every failure is :class:`~crypto.errors.InvalidKeyError`:
a NIST point must be uncompressed and on the curve (cofactor 1, so no small subgroup); an
X25519/X448 exchange whose result is all zero is refused, which rejects every low-order
point rather than a list of known ones. An X25519/X448 key must also be canonical, u < p
(for X25519 this includes a clear top bit): RFC 7748 would reduce u mod p and ignore that
bit, so one key would have several byte strings, while MLS requires encryption keys to be
unique byte-wise (RFC 9420 §7.3). Honest keys are always canonical.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from crypto.errors import InvalidKeyError, InvalidLengthError
from crypto.kdf import HKDF_SHA256, HKDF_SHA384, HKDF_SHA512, Kdf
from crypto.random import RandomSource

HPKE_VERSION = b"HPKE-v1"

_LibPrivateKey = x25519.X25519PrivateKey | x448.X448PrivateKey | ec.EllipticCurvePrivateKey
_Expand = Callable[[bytes, bytes, int], bytes]  # (label, info, length) -> bytes


@dataclass(frozen=True)
class LabeledKdf:
    """RFC 9180 §4 LabeledExtract and LabeledExpand: a KDF bound to one ``suite_id``."""

    kdf: Kdf
    suite_id: bytes

    def extract(self, salt: bytes, label: bytes, ikm: bytes) -> bytes:
        """Extract(salt, "HPKE-v1" || suite_id || label || ikm)."""
        return self.kdf.extract(salt, HPKE_VERSION + self.suite_id + label + ikm)

    def expand(self, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
        """Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L)."""
        if not 0 <= length <= 0xFFFF:
            raise InvalidLengthError(f"LabeledExpand cannot produce {length} bytes")
        labeled_info = length.to_bytes(2, "big") + HPKE_VERSION + self.suite_id + label + info
        return self.kdf.expand(prk, labeled_info, length)


def _wrong_algorithm() -> InvalidKeyError:
    return InvalidKeyError("private key belongs to another algorithm")


class _DhGroup(Protocol):
    """What a KEM needs from its Diffie-Hellman group."""

    n_pk: int
    n_sk: int

    def derive_private_bytes(self, expand: _Expand) -> bytes: ...
    def load_private(self, data: bytes) -> _LibPrivateKey: ...
    def private_bytes(self, key: _LibPrivateKey) -> bytes: ...
    def public_bytes(self, key: _LibPrivateKey) -> bytes: ...
    def check_public(self, data: bytes) -> None: ...
    def dh(self, key: _LibPrivateKey, peer_public: bytes) -> bytes: ...


class _Montgomery:
    """X25519 or X448 (RFC 7748): every Nsk-byte string is a private key (it is clamped);
    a public key is the little-endian u-coordinate, accepted only below ``prime``."""

    def __init__(
        self,
        size: int,
        prime: int,
        load: Callable[[bytes], _LibPrivateKey],
        exchange: Callable[[_LibPrivateKey, bytes], bytes],
    ) -> None:
        self.n_pk = self.n_sk = size
        self._prime = prime
        self._load = load
        self._exchange = exchange
        # A fixed scalar detects low order: clamped, it is a multiple of the cofactor yet too
        # small to be a multiple of the large prime order (of the curve or of its twist), so
        # k*P is the neutral element exactly when P has small order, whatever its encoding.
        self._probe = load(bytes([0x5A]) * size)

    def derive_private_bytes(self, expand: _Expand) -> bytes:
        return expand(b"sk", b"", self.n_sk)

    def load_private(self, data: bytes) -> _LibPrivateKey:
        if len(data) != self.n_sk:
            raise InvalidKeyError(f"private key must be {self.n_sk} bytes")
        return self._load(data)

    def private_bytes(self, key: _LibPrivateKey) -> bytes:
        return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def public_bytes(self, key: _LibPrivateKey) -> bytes:
        return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def check_public(self, data: bytes) -> None:
        self.dh(self._probe, data)

    def dh(self, key: _LibPrivateKey, peer_public: bytes) -> bytes:
        if len(peer_public) != self.n_pk:
            raise InvalidKeyError(f"public key must be {self.n_pk} bytes")
        if int.from_bytes(peer_public, "little") >= self._prime:  # X25519: also the top bit
            raise InvalidKeyError("public key is not a canonical encoding")
        try:
            shared = self._exchange(key, peer_public)
        except ValueError:  # OpenSSL refuses an all-zero result itself
            raise InvalidKeyError("public key has low order") from None
        if hmac.compare_digest(shared, bytes(len(shared))):
            raise InvalidKeyError("public key has low order")
        return shared


def _x25519_exchange(key: _LibPrivateKey, peer: bytes) -> bytes:
    if not isinstance(key, x25519.X25519PrivateKey):
        raise _wrong_algorithm()
    return key.exchange(x25519.X25519PublicKey.from_public_bytes(peer))


def _x448_exchange(key: _LibPrivateKey, peer: bytes) -> bytes:
    if not isinstance(key, x448.X448PrivateKey):
        raise _wrong_algorithm()
    return key.exchange(x448.X448PublicKey.from_public_bytes(peer))


class _NistCurve:
    """P-256, P-384, P-521 (SEC1): uncompressed points, big-endian scalars in [1, n-1]."""

    def __init__(self, curve: ec.EllipticCurve, n_sk: int, bitmask: int) -> None:
        self.n_sk = n_sk
        self.n_pk = 1 + 2 * n_sk
        self._curve = curve
        self._order = curve.group_order
        self._bitmask = bitmask

    def derive_private_bytes(self, expand: _Expand) -> bytes:
        # §7.1.3: rejection sampling over at most 256 candidates.
        for counter in range(256):
            candidate = bytearray(expand(b"candidate", bytes([counter]), self.n_sk))
            candidate[0] &= self._bitmask
            if 0 < int.from_bytes(candidate, "big") < self._order:
                return bytes(candidate)
        raise InvalidKeyError("DeriveKeyPair found no valid scalar")

    def load_private(self, data: bytes) -> _LibPrivateKey:
        if len(data) != self.n_sk:
            raise InvalidKeyError(f"private key must be {self.n_sk} bytes")
        scalar = int.from_bytes(data, "big")
        if not 0 < scalar < self._order:
            raise InvalidKeyError("private scalar out of range")
        return ec.derive_private_key(scalar, self._curve)

    def private_bytes(self, key: _LibPrivateKey) -> bytes:
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise _wrong_algorithm()
        return key.private_numbers().private_value.to_bytes(self.n_sk, "big")

    def public_bytes(self, key: _LibPrivateKey) -> bytes:
        return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def _load_public(self, data: bytes) -> ec.EllipticCurvePublicKey:
        if len(data) != self.n_pk or data[0] != 0x04:
            raise InvalidKeyError("public key must be an uncompressed point")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(self._curve, data)
        except ValueError:
            raise InvalidKeyError("public key is not a point on the curve") from None

    def check_public(self, data: bytes) -> None:
        self._load_public(data)

    def dh(self, key: _LibPrivateKey, peer_public: bytes) -> bytes:
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise _wrong_algorithm()
        return key.exchange(ec.ECDH(), self._load_public(peer_public))


@dataclass(frozen=True)
class Kem:
    """One DHKEM of the RFC 9180 registry (§7.1, Table 2)."""

    kem_id: int
    name: str
    kdf: Kdf
    n_secret: int
    _group: _DhGroup = field(repr=False, compare=False)

    @property
    def n_pk(self) -> int:
        return self._group.n_pk

    @property
    def n_enc(self) -> int:
        return self._group.n_pk

    @property
    def n_sk(self) -> int:
        return self._group.n_sk

    @property
    def labeled(self) -> LabeledKdf:
        """The KEM's own KDF with suite_id = "KEM" || I2OSP(kem_id, 2)."""
        return LabeledKdf(self.kdf, b"KEM" + self.kem_id.to_bytes(2, "big"))

    def derive_key_pair(self, ikm: bytes) -> tuple[HpkePrivateKey, bytes]:
        """§7.1.3 DeriveKeyPair: the private key and the serialized public key."""
        labeled = self.labeled
        dkp_prk = labeled.extract(b"", b"dkp_prk", bytes(ikm))

        def expand(label: bytes, info: bytes, length: int) -> bytes:
            return labeled.expand(dkp_prk, label, info, length)

        key = self._group.load_private(self._group.derive_private_bytes(expand))
        return HpkePrivateKey(self, key), self._group.public_bytes(key)

    def generate_key_pair(self, rng: RandomSource) -> tuple[HpkePrivateKey, bytes]:
        """GenerateKeyPair as DeriveKeyPair of Nsk bytes from ``rng`` (its only randomness)."""
        return self.derive_key_pair(self._random_ikm(rng))

    def deserialize_private_key(self, data: bytes) -> HpkePrivateKey:
        return HpkePrivateKey(self, self._group.load_private(bytes(data)))

    def validate_public_key(self, data: bytes) -> None:
        """Raise ``InvalidKeyError`` unless ``data`` is a usable public key of this KEM."""
        self._group.check_public(bytes(data))

    def serialize_private_key(self, private_key: HpkePrivateKey) -> bytes:
        return self._group.private_bytes(self._own(private_key))

    def public_key_of(self, private_key: HpkePrivateKey) -> bytes:
        """SerializePublicKey(pk(sk))."""
        return self._group.public_bytes(self._own(private_key))

    def encap(self, pk_r: bytes, rng: RandomSource) -> tuple[bytes, bytes]:
        """(shared_secret, enc) for ``pk_r``, the ephemeral key drawn from ``rng``."""
        return self.encap_with_ikm(pk_r, self._random_ikm(rng))

    def encap_with_ikm(self, pk_r: bytes, ikm_e: bytes) -> tuple[bytes, bytes]:
        """Encap with the ephemeral key pair DeriveKeyPair(ikm_e) (RFC 9180 test vectors)."""
        sk_e, enc = self.derive_key_pair(ikm_e)
        dh = self._group.dh(sk_e._key, bytes(pk_r))
        return self._extract_and_expand(dh, enc + bytes(pk_r)), enc

    def decap(self, enc: bytes, sk_r: HpkePrivateKey) -> bytes:
        key = self._own(sk_r)
        dh = self._group.dh(key, bytes(enc))
        return self._extract_and_expand(dh, bytes(enc) + self._group.public_bytes(key))

    def _random_ikm(self, rng: RandomSource) -> bytes:
        ikm = rng.random_bytes(self.n_sk)
        if len(ikm) != self.n_sk:
            raise InvalidKeyError("random source returned the wrong number of bytes")
        return ikm

    def _extract_and_expand(self, dh: bytes, kem_context: bytes) -> bytes:
        labeled = self.labeled
        eae_prk = labeled.extract(b"", b"eae_prk", dh)
        return labeled.expand(eae_prk, b"shared_secret", kem_context, self.n_secret)

    def _own(self, private_key: HpkePrivateKey) -> _LibPrivateKey:
        if private_key.kem != self:
            raise InvalidKeyError(f"private key belongs to {private_key.kem.name}, not {self.name}")
        return private_key._key


class HpkePrivateKey:
    """A KEM private key. Made by a :class:`Kem`; ``repr`` never shows the key."""

    __slots__ = ("_kem", "_key")

    def __init__(self, kem: Kem, key: _LibPrivateKey) -> None:
        self._kem = kem
        self._key = key

    @property
    def kem(self) -> Kem:
        return self._kem

    def to_bytes(self) -> bytes:
        """SerializePrivateKey (RFC 9180 §7.1.2)."""
        return self._kem.serialize_private_key(self)

    def public_key(self) -> bytes:
        """SerializePublicKey of the matching public key."""
        return self._kem.public_key_of(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HpkePrivateKey):
            return NotImplemented
        same_kem = self._kem == other._kem
        return hmac.compare_digest(self.to_bytes(), other.to_bytes()) and same_kem

    def __hash__(self) -> int:
        return hash((self._kem.kem_id, self.public_key()))  # public data only

    def __repr__(self) -> str:
        return f"HpkePrivateKey({self._kem.name}, <redacted>)"


DHKEM_P256 = Kem(
    0x0010,
    "DHKEM(P-256, HKDF-SHA256)",
    HKDF_SHA256,
    32,
    _NistCurve(ec.SECP256R1(), 32, 0xFF),
)
DHKEM_P384 = Kem(
    0x0011,
    "DHKEM(P-384, HKDF-SHA384)",
    HKDF_SHA384,
    48,
    _NistCurve(ec.SECP384R1(), 48, 0xFF),
)
DHKEM_P521 = Kem(
    0x0012,
    "DHKEM(P-521, HKDF-SHA512)",
    HKDF_SHA512,
    64,
    _NistCurve(ec.SECP521R1(), 66, 0x01),
)
DHKEM_X25519 = Kem(
    0x0020,
    "DHKEM(X25519, HKDF-SHA256)",
    HKDF_SHA256,
    32,
    _Montgomery(32, 2**255 - 19, x25519.X25519PrivateKey.from_private_bytes, _x25519_exchange),
)
DHKEM_X448 = Kem(
    0x0021,
    "DHKEM(X448, HKDF-SHA512)",
    HKDF_SHA512,
    64,
    _Montgomery(56, 2**448 - 2**224 - 1, x448.X448PrivateKey.from_private_bytes, _x448_exchange),
)
