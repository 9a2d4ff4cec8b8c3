"""MLS cipher suites (RFC 9420 §5.1, registry in §17.1): one object per suite.

The MLS engine reaches every algorithm through a :class:`CipherSuite` and has no
suite-specific branches. Asking for a suite that is not implemented raises
:class:`~crypto.errors.UnsupportedCipherSuiteError`; nothing falls back to another suite.

    id  KEM                 AEAD              hash     signature
    1   DHKEM(X25519)       AES-128-GCM       SHA-256  Ed25519
    2   DHKEM(P-256)        AES-128-GCM       SHA-256  ECDSA P-256/SHA-256
    3   DHKEM(X25519)       ChaCha20Poly1305  SHA-256  Ed25519
    4   DHKEM(X448)         AES-256-GCM       SHA-512  Ed448
    5   DHKEM(P-521)        AES-256-GCM       SHA-512  ECDSA P-521/SHA-512
    6   DHKEM(X448)         ChaCha20Poly1305  SHA-512  Ed448
    7   DHKEM(P-384)        AES-256-GCM       SHA-384  ECDSA P-384/SHA-384
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crypto.aead import AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305, Aead
from crypto.errors import UnsupportedCipherSuiteError
from crypto.hpke import (
    DHKEM_P256,
    DHKEM_P384,
    DHKEM_P521,
    DHKEM_X448,
    DHKEM_X25519,
    Hpke,
    Kem,
)
from crypto.kdf import HKDF_SHA256, HKDF_SHA384, HKDF_SHA512, Kdf
from crypto.signatures import (
    ECDSA_P256_SHA256,
    ECDSA_P384_SHA384,
    ECDSA_P521_SHA512,
    ED448,
    ED25519,
    SignatureScheme,
)


@dataclass(frozen=True)
class CipherSuite:
    """The algorithms of one MLS cipher suite and the suite-level primitives built on them."""

    suite_id: int
    name: str
    kem: Kem
    kdf: Kdf
    aead: Aead
    signature: SignatureScheme
    hpke: Hpke = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hpke", Hpke(self.kem, self.kdf, self.aead))

    @property
    def hash_size(self) -> int:
        return self.kdf.hash_size

    def hash(self, data: bytes) -> bytes:
        return self.kdf.hash(data)

    def mac(self, key: bytes, data: bytes) -> bytes:
        return self.kdf.mac(key, data)

    def extract(self, salt: bytes, ikm: bytes) -> bytes:
        return self.kdf.extract(salt, ikm)

    def expand(self, prk: bytes, info: bytes, length: int) -> bytes:
        return self.kdf.expand(prk, info, length)


def _suite(
    suite_id: int, name: str, kem: Kem, aead: Aead, kdf: Kdf, sig: SignatureScheme
) -> CipherSuite:
    return CipherSuite(suite_id, name, kem, kdf, aead, sig)


_SUITES: dict[int, CipherSuite] = {
    s.suite_id: s
    for s in (
        _suite(
            1,
            "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
            DHKEM_X25519,
            AES_128_GCM,
            HKDF_SHA256,
            ED25519,
        ),
        _suite(
            2,
            "MLS_128_DHKEMP256_AES128GCM_SHA256_P256",
            DHKEM_P256,
            AES_128_GCM,
            HKDF_SHA256,
            ECDSA_P256_SHA256,
        ),
        _suite(
            3,
            "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519",
            DHKEM_X25519,
            CHACHA20_POLY1305,
            HKDF_SHA256,
            ED25519,
        ),
        _suite(
            4,
            "MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448",
            DHKEM_X448,
            AES_256_GCM,
            HKDF_SHA512,
            ED448,
        ),
        _suite(
            5,
            "MLS_256_DHKEMP521_AES256GCM_SHA512_P521",
            DHKEM_P521,
            AES_256_GCM,
            HKDF_SHA512,
            ECDSA_P521_SHA512,
        ),
        _suite(
            6,
            "MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448",
            DHKEM_X448,
            CHACHA20_POLY1305,
            HKDF_SHA512,
            ED448,
        ),
        _suite(
            7,
            "MLS_256_DHKEMP384_AES256GCM_SHA384_P384",
            DHKEM_P384,
            AES_256_GCM,
            HKDF_SHA384,
            ECDSA_P384_SHA384,
        ),
    )
}

SUPPORTED_SUITE_IDS: tuple[int, ...] = tuple(sorted(_SUITES))
DEFAULT_SUITE_ID = 1


def cipher_suite(suite_id: int) -> CipherSuite:
    """The suite with this RFC 9420 identifier, or ``UnsupportedCipherSuiteError``."""
    try:
        return _SUITES[suite_id]
    except KeyError:
        message = f"cipher suite 0x{suite_id:04x} is not supported"
        raise UnsupportedCipherSuiteError(message) from None
