"""crypto.aead: known answers (RFC 9180 A.1.1, A.2.1, A.6.1, first encryption) and the
one error every decryption failure gives (ATTACKS.md E3)."""

from __future__ import annotations

import pytest

from crypto.aead import AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305, Aead
from crypto.errors import InvalidLengthError, InvalidTagError

PLAINTEXT = bytes.fromhex("4265617574792069732074727574682c20747275746820626561757479")
AAD = b"Count-0"
ALL_AEADS = (AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305)


@pytest.mark.parametrize(
    ("aead", "key", "nonce", "ciphertext"),
    [
        (
            AES_128_GCM,
            "4531685d41d65f03dc48f6b8302c05b0",
            "56d890e5accaaf011cff4b7d",
            "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a9"
            "6d8770ac83d07bea87e13c512a",
        ),
        (
            CHACHA20_POLY1305,
            "ad2744de8e17f4ebba575b3f5f5a8fa1f69c2a07f6e7500bc60ca6e3e3ec1c91",
            "5c4d98150661b848853b547f",
            "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db"
            "21993c62ce81883d2dd1b51a28",
        ),
        (
            AES_256_GCM,
            "751e346ce8f0ddb2305c8a2a85c70d5cf559c53093656be636b9406d4d7d1b70",
            "55ff7a7d739c69f44b25447b",
            "170f8beddfe949b75ef9c387e201baf4132fa7374593dfafa90768788b7b2b20"
            "0aafcc6d80ea4c795a7c5b841a",
        ),
    ],
    ids=lambda v: v.name if isinstance(v, Aead) else None,
)
def test_known_answers(aead: Aead, key: str, nonce: str, ciphertext: str) -> None:
    k, n = bytes.fromhex(key), bytes.fromhex(nonce)
    assert aead.seal(k, n, AAD, PLAINTEXT).hex() == ciphertext
    assert aead.open(k, n, AAD, bytes.fromhex(ciphertext)) == PLAINTEXT


@pytest.mark.parametrize(
    ("aead", "aead_id", "key_size"),
    [(AES_128_GCM, 1, 16), (AES_256_GCM, 2, 32), (CHACHA20_POLY1305, 3, 32)],
    ids=lambda v: v.name if isinstance(v, Aead) else None,
)
def test_parameters(aead: Aead, aead_id: int, key_size: int) -> None:
    assert (aead.aead_id, aead.key_size, aead.nonce_size, aead.tag_size) == (
        aead_id,
        key_size,
        12,
        16,
    )


@pytest.mark.parametrize("aead", ALL_AEADS, ids=lambda a: a.name)
def test_every_failure_is_invalid_tag(aead: Aead) -> None:
    key, nonce = bytes(range(aead.key_size)), bytes(aead.nonce_size)
    ciphertext = aead.seal(key, nonce, b"aad", b"note")
    for k, n, aad, ct in (
        (key, nonce, b"aad", ciphertext[:-1] + bytes([ciphertext[-1] ^ 1])),
        (key, nonce, b"aad", bytes([ciphertext[0] ^ 1]) + ciphertext[1:]),
        (key, nonce, b"aad", ciphertext[:-1]),
        (key, nonce, b"aad", ciphertext[: aead.tag_size - 1]),
        (key, nonce, b"aad", b""),
        (key, nonce, b"aa", ciphertext),
        (key, b"\x01" + nonce[1:], b"aad", ciphertext),
        (bytes(aead.key_size), nonce, b"aad", ciphertext),
    ):
        with pytest.raises(InvalidTagError):
            aead.open(k, n, aad, ct)
    assert aead.open(key, nonce, b"aad", ciphertext) == b"note"


@pytest.mark.parametrize("aead", ALL_AEADS, ids=lambda a: a.name)
def test_wrong_key_or_nonce_length(aead: Aead) -> None:
    key, nonce = bytes(aead.key_size), bytes(aead.nonce_size)
    for k, n in ((key[:-1], nonce), (key + b"\x00", nonce), (key, nonce[:-1]), (key, nonce + b"0")):
        with pytest.raises(InvalidLengthError):
            aead.seal(k, n, b"", b"x")
        with pytest.raises(InvalidLengthError):
            aead.open(k, n, b"", bytes(32))


@pytest.mark.parametrize("aead", ALL_AEADS, ids=lambda a: a.name)
def test_empty_plaintext_is_just_a_tag(aead: Aead) -> None:
    key, nonce = bytes(aead.key_size), bytes(aead.nonce_size)
    ciphertext = aead.seal(key, nonce, b"", b"")
    assert len(ciphertext) == aead.tag_size
    assert aead.open(key, nonce, b"", ciphertext) == b""
