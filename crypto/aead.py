"""AEAD algorithms of the MLS cipher suites (RFC 9420 §5.1, RFC 9180 §7.3).

Every decryption failure raises :class:`~crypto.errors.InvalidTagError` and nothing else,
so callers cannot tell apart a wrong key, a wrong nonce and a tampered ciphertext.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from crypto.errors import InvalidLengthError, InvalidTagError

_Cipher = AESGCM | ChaCha20Poly1305


@dataclass(frozen=True)
class Aead:
    """One AEAD; ``aead_id`` is its RFC 9180 identifier."""

    name: str
    aead_id: int
    key_size: int
    nonce_size: int
    tag_size: int
    _factory: Callable[[bytes], _Cipher]

    def _cipher(self, key: bytes, nonce: bytes) -> _Cipher:
        if len(key) != self.key_size:
            raise InvalidLengthError(f"{self.name} key must be {self.key_size} bytes")
        if len(nonce) != self.nonce_size:
            raise InvalidLengthError(f"{self.name} nonce must be {self.nonce_size} bytes")
        return self._factory(key)

    def seal(self, key: bytes, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        return self._cipher(key, nonce).encrypt(nonce, plaintext, aad)

    def open(self, key: bytes, nonce: bytes, aad: bytes, ciphertext: bytes) -> bytes:
        cipher = self._cipher(key, nonce)
        if len(ciphertext) < self.tag_size:
            raise InvalidTagError("ciphertext shorter than its tag")
        try:
            return cipher.decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise InvalidTagError("AEAD authentication failed") from None


AES_128_GCM = Aead("AES-128-GCM", 0x0001, 16, 12, 16, AESGCM)
AES_256_GCM = Aead("AES-256-GCM", 0x0002, 32, 12, 16, AESGCM)
CHACHA20_POLY1305 = Aead("ChaCha20Poly1305", 0x0003, 32, 12, 16, ChaCha20Poly1305)
