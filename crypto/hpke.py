"""HPKE base mode (RFC 9180 §5.1.1, §5.2, §5.3, §6) as MLS uses it (RFC 9420 §5.1.3).

Written here rather than taken from ``cryptography.hazmat.primitives.hpke`` because MLS
needs the ephemeral randomness as an input, the Export interface and DeriveKeyPair, none
of which that single-shot API offers (the tests still use it as an independent check).

    SetupBaseS(pkR, info):      shared_secret, enc = Encap(pkR)       (crypto.dhkem)
    SetupBaseR(enc, skR, info): shared_secret = Decap(enc, skR)
    KeySchedule(mode 0, shared_secret, info), psk = psk_id = "":
        ctx = 0x00 || LabeledExtract("", "psk_id_hash", "") || LabeledExtract("", "info_hash", info)
        secret = LabeledExtract(shared_secret, "secret", "")
        key = LabeledExpand(secret, "key", ctx, Nk), likewise "base_nonce" (Nn), "exp" (Nh)
    Seal/Open: AEAD under nonce = base_nonce XOR I2OSP(seq, Nn), seq counting messages
    Export(exporter_context, L) = LabeledExpand(exporter_secret, "sec", exporter_context, L)

suite_id here is "HPKE" || kem_id || kdf_id || aead_id. A sender context can only seal and a
recipient context can only open, so one key/nonce stream is never used in both directions.
"""

from __future__ import annotations

from dataclasses import dataclass

from crypto.aead import Aead
from crypto.dhkem import (
    DHKEM_P256,
    DHKEM_P384,
    DHKEM_P521,
    DHKEM_X448,
    DHKEM_X25519,
    HpkePrivateKey,
    Kem,
    LabeledKdf,
)
from crypto.errors import CryptoError
from crypto.kdf import Kdf
from crypto.random import RandomSource

__all__ = [
    "DHKEM_P256",
    "DHKEM_P384",
    "DHKEM_P521",
    "DHKEM_X448",
    "DHKEM_X25519",
    "Hpke",
    "HpkeContext",
    "HpkePrivateKey",
    "HpkeRecipientContext",
    "HpkeSenderContext",
    "Kem",
    "MessageLimitReachedError",
]

MODE_BASE = 0x00


class MessageLimitReachedError(CryptoError):
    """The context's sequence number is exhausted (RFC 9180 §5.2); set up a new one."""

    code = "message_limit_reached"


class HpkeContext:
    """The key schedule's output; holds secrets, so ``repr`` shows none of them."""

    __slots__ = ("_base_nonce", "_exporter_secret", "_hpke", "_key", "_seq")

    def __init__(self, hpke: Hpke, key: bytes, base_nonce: bytes, exporter_secret: bytes) -> None:
        self._hpke = hpke
        self._key = key
        self._base_nonce = base_nonce
        self._exporter_secret = exporter_secret
        self._seq = 0

    def export(self, exporter_context: bytes, length: int) -> bytes:
        """The secret export interface (§5.3); ``InvalidLengthError`` beyond 255*Nh bytes."""
        labeled = self._hpke.labeled
        return labeled.expand(self._exporter_secret, b"sec", bytes(exporter_context), length)

    def _next_nonce(self) -> bytes:
        size = self._hpke.aead.nonce_size
        if self._seq >= (1 << (8 * size)) - 1:
            raise MessageLimitReachedError("HPKE context sequence number exhausted")
        seq = self._seq.to_bytes(size, "big")
        return bytes(a ^ b for a, b in zip(self._base_nonce, seq, strict=True))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seq={self._seq}, <redacted>)"


class HpkeSenderContext(HpkeContext):
    """ContextS: seals messages in order."""

    __slots__ = ()

    def seal(self, aad: bytes, plaintext: bytes) -> bytes:
        ciphertext = self._hpke.aead.seal(self._key, self._next_nonce(), aad, plaintext)
        self._seq += 1
        return ciphertext


class HpkeRecipientContext(HpkeContext):
    """ContextR: opens messages in the order they were sealed; a failure does not advance."""

    __slots__ = ()

    def open(self, aad: bytes, ciphertext: bytes) -> bytes:
        plaintext = self._hpke.aead.open(self._key, self._next_nonce(), aad, ciphertext)
        self._seq += 1
        return plaintext


@dataclass(frozen=True)
class Hpke:
    """One HPKE cipher suite (KEM, KDF, AEAD) in base mode."""

    kem: Kem
    kdf: Kdf
    aead: Aead

    @property
    def labeled(self) -> LabeledKdf:
        """The suite's KDF with suite_id = "HPKE" || kem_id || kdf_id || aead_id."""
        ids = (self.kem.kem_id, self.kdf.hkdf_id, self.aead.aead_id)
        return LabeledKdf(self.kdf, b"HPKE" + b"".join(i.to_bytes(2, "big") for i in ids))

    def _key_schedule(self, shared_secret: bytes, info: bytes) -> tuple[bytes, bytes, bytes]:
        labeled = self.labeled
        psk_id_hash = labeled.extract(b"", b"psk_id_hash", b"")
        info_hash = labeled.extract(b"", b"info_hash", bytes(info))
        context = bytes([MODE_BASE]) + psk_id_hash + info_hash
        secret = labeled.extract(shared_secret, b"secret", b"")
        key = labeled.expand(secret, b"key", context, self.aead.key_size)
        base_nonce = labeled.expand(secret, b"base_nonce", context, self.aead.nonce_size)
        exporter_secret = labeled.expand(secret, b"exp", context, self.kdf.hash_size)
        return key, base_nonce, exporter_secret

    def setup_base_s(
        self, pk_r: bytes, info: bytes, rng: RandomSource
    ) -> tuple[bytes, HpkeSenderContext]:
        """SetupBaseS: (enc, context); the ephemeral key comes from ``rng`` only."""
        shared_secret, enc = self.kem.encap(pk_r, rng)
        return enc, HpkeSenderContext(self, *self._key_schedule(shared_secret, info))

    def setup_base_s_with_ikm(
        self, pk_r: bytes, info: bytes, ikm_e: bytes
    ) -> tuple[bytes, HpkeSenderContext]:
        """SetupBaseS with the ephemeral key pair DeriveKeyPair(ikm_e), for known answers."""
        shared_secret, enc = self.kem.encap_with_ikm(pk_r, ikm_e)
        return enc, HpkeSenderContext(self, *self._key_schedule(shared_secret, info))

    def setup_base_r(self, enc: bytes, sk_r: HpkePrivateKey, info: bytes) -> HpkeRecipientContext:
        shared_secret = self.kem.decap(enc, sk_r)
        return HpkeRecipientContext(self, *self._key_schedule(shared_secret, info))

    def seal_base(
        self, pk_r: bytes, info: bytes, aad: bytes, plaintext: bytes, rng: RandomSource
    ) -> tuple[bytes, bytes]:
        """Single-shot SealBase (§6.1): (enc, ciphertext)."""
        enc, context = self.setup_base_s(pk_r, info, rng)
        return enc, context.seal(aad, plaintext)

    def open_base(
        self, enc: bytes, sk_r: HpkePrivateKey, info: bytes, aad: bytes, ciphertext: bytes
    ) -> bytes:
        """Single-shot OpenBase (§6.1): ``InvalidKeyError`` (bad enc) or ``InvalidTagError``."""
        return self.setup_base_r(enc, sk_r, info).open(aad, ciphertext)
