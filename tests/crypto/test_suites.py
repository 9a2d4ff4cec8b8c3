"""crypto.suites: the RFC 9420 §17.1 registry rows, and refusal of every other identifier."""

from __future__ import annotations

import pytest

from crypto.aead import AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305
from crypto.errors import UnsupportedCipherSuiteError
from crypto.hpke import DHKEM_P256, DHKEM_P384, DHKEM_P521, DHKEM_X448, DHKEM_X25519, Kem
from crypto.kdf import HKDF_SHA256, HKDF_SHA384, HKDF_SHA512
from crypto.signatures import (
    ECDSA_P256_SHA256,
    ECDSA_P384_SHA384,
    ECDSA_P521_SHA512,
    ED448,
    ED25519,
)
from crypto.suites import DEFAULT_SUITE_ID, SUPPORTED_SUITE_IDS, cipher_suite

REGISTRY = {
    1: (
        "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
        (DHKEM_X25519, AES_128_GCM, HKDF_SHA256, ED25519),
    ),
    2: (
        "MLS_128_DHKEMP256_AES128GCM_SHA256_P256",
        (DHKEM_P256, AES_128_GCM, HKDF_SHA256, ECDSA_P256_SHA256),
    ),
    3: (
        "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519",
        (DHKEM_X25519, CHACHA20_POLY1305, HKDF_SHA256, ED25519),
    ),
    4: (
        "MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448",
        (DHKEM_X448, AES_256_GCM, HKDF_SHA512, ED448),
    ),
    5: (
        "MLS_256_DHKEMP521_AES256GCM_SHA512_P521",
        (DHKEM_P521, AES_256_GCM, HKDF_SHA512, ECDSA_P521_SHA512),
    ),
    6: (
        "MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448",
        (DHKEM_X448, CHACHA20_POLY1305, HKDF_SHA512, ED448),
    ),
    7: (
        "MLS_256_DHKEMP384_AES256GCM_SHA384_P384",
        (DHKEM_P384, AES_256_GCM, HKDF_SHA384, ECDSA_P384_SHA384),
    ),
}

# RFC 9180 §7.1 Table 2: kem_id, Nsecret, Nenc, Npk, Nsk, and the KEM's own KDF.
KEM_TABLE = {
    DHKEM_P256: (0x0010, 32, 65, 65, 32, HKDF_SHA256),
    DHKEM_P384: (0x0011, 48, 97, 97, 48, HKDF_SHA384),
    DHKEM_P521: (0x0012, 64, 133, 133, 66, HKDF_SHA512),
    DHKEM_X25519: (0x0020, 32, 32, 32, 32, HKDF_SHA256),
    DHKEM_X448: (0x0021, 64, 56, 56, 56, HKDF_SHA512),
}


def test_supported_suites_are_the_registry() -> None:
    assert SUPPORTED_SUITE_IDS == tuple(range(1, 8))
    assert DEFAULT_SUITE_ID == 1


@pytest.mark.parametrize("suite_id", sorted(REGISTRY))
def test_each_suite_is_its_registry_row(suite_id: int) -> None:
    name, (kem, aead, kdf, signature) = REGISTRY[suite_id]
    suite = cipher_suite(suite_id)
    assert (suite.suite_id, suite.name) == (suite_id, name)
    assert (suite.kem, suite.aead, suite.kdf, suite.signature) == (kem, aead, kdf, signature)
    assert (suite.hpke.kem, suite.hpke.kdf, suite.hpke.aead) == (kem, kdf, aead)
    assert suite.hash_size == kdf.hash_size
    assert suite.hash(b"x") == kdf.hash(b"x")
    assert cipher_suite(suite_id) is suite


@pytest.mark.parametrize("kem", list(KEM_TABLE), ids=lambda k: k.name)
def test_kem_parameters_follow_rfc9180(kem: Kem) -> None:
    row = (kem.kem_id, kem.n_secret, kem.n_enc, kem.n_pk, kem.n_sk, kem.kdf)
    assert row == KEM_TABLE[kem]


@pytest.mark.parametrize("suite_id", [0, 8, 0x0A0A, 0xFFFF, -1])
def test_other_identifiers_are_refused(suite_id: int) -> None:
    with pytest.raises(UnsupportedCipherSuiteError) as raised:
        cipher_suite(suite_id)
    assert raised.value.code == "unsupported_cipher_suite"
