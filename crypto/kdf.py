"""Hash functions and HKDF (RFC 5869) as used by MLS (RFC 9420 §5.1) and HPKE (RFC 9180 §4).

``Kdf`` is the suite's KDF: ``extract`` and ``expand`` are HKDF-Extract and HKDF-Expand with
the suite's hash, and ``hash``/``mac`` give the suite's Hash and MAC (HMAC).
"""

from __future__ import annotations

import hmac as std_hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from crypto.errors import InvalidLengthError, InvalidTagError


@dataclass(frozen=True)
class Kdf:
    """HKDF over one hash function; ``hkdf_id`` is its RFC 9180 KDF identifier."""

    name: str
    hkdf_id: int
    algorithm: type[hashes.HashAlgorithm]

    @property
    def hash_size(self) -> int:
        """Nh: the output size of the hash in bytes."""
        return self.algorithm().digest_size

    def hash(self, data: bytes) -> bytes:
        digest = hashes.Hash(self.algorithm())
        digest.update(data)
        return digest.finalize()

    def mac(self, key: bytes, data: bytes) -> bytes:
        tag = HMAC(key, self.algorithm())
        tag.update(data)
        return tag.finalize()

    def verify_mac(self, key: bytes, data: bytes, tag: bytes) -> None:
        """Raise ``InvalidTagError`` unless ``tag`` is MAC(key, data); constant-time compare."""
        if not std_hmac.compare_digest(self.mac(key, data), bytes(tag)):
            raise InvalidTagError("MAC does not verify")

    def extract(self, salt: bytes, ikm: bytes) -> bytes:
        """HKDF-Extract; an empty salt means Nh zero bytes (RFC 5869 §2.2)."""
        return self.mac(salt or bytes(self.hash_size), ikm)

    def expand(self, prk: bytes, info: bytes, length: int) -> bytes:
        if not 0 < length <= 255 * self.hash_size:
            raise InvalidLengthError(f"HKDF-Expand cannot produce {length} bytes")
        if len(prk) < self.hash_size:
            raise InvalidLengthError("HKDF-Expand key shorter than the hash output")
        return HKDFExpand(self.algorithm(), length, info).derive(prk)


HKDF_SHA256 = Kdf("HKDF-SHA256", 0x0001, hashes.SHA256)
HKDF_SHA384 = Kdf("HKDF-SHA384", 0x0002, hashes.SHA384)
HKDF_SHA512 = Kdf("HKDF-SHA512", 0x0003, hashes.SHA512)
