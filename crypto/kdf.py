"""Hash functions and HKDF (RFC 5869) as used by MLS (RFC 9420 §5.1) and HPKE (RFC 9180 §4).

``Kdf`` is the suite's KDF: ``extract`` and ``expand`` are HKDF-Extract and HKDF-Expand with
the suite's hash, and ``hash``/``mac`` give the suite's Hash and MAC (HMAC).
"""

from __future__ import annotations

import hashlib
import hmac as std_hmac
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes

from crypto.errors import InvalidLengthError, InvalidTagError


@dataclass(frozen=True)
class Kdf:
    """HKDF over one hash function; ``hkdf_id`` is its RFC 9180 KDF identifier."""

    name: str
    hkdf_id: int
    algorithm: type[hashes.HashAlgorithm]
    # hashlib's name of the hash: the standard library's one-shot calls reach the same
    # OpenSSL digests without building an object per call (MLS hashes tens of thousands
    # of times when a device joins a large group)
    _digest: str = field(init=False, repr=False, compare=False)
    _size: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_digest", self.algorithm.name)
        object.__setattr__(self, "_size", self.algorithm().digest_size)

    @property
    def hash_size(self) -> int:
        """Nh: the output size of the hash in bytes."""
        return self._size

    def hash(self, data: bytes) -> bytes:
        return hashlib.new(self._digest, data).digest()

    def mac(self, key: bytes, data: bytes) -> bytes:
        return std_hmac.digest(key, data, self._digest)

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
        if length <= self._size:  # one block, as every MLS and HPKE key and nonce is
            return std_hmac.digest(prk, info + b"\x01", self._digest)[:length]
        # T(i) = HMAC(PRK, T(i-1) || info || i), output the first ``length`` bytes
        blocks: list[bytes] = []
        block = b""
        for counter in range(1, -(-length // self._size) + 1):
            block = std_hmac.digest(prk, block + info + bytes((counter,)), self._digest)
            blocks.append(block)
        return b"".join(blocks)[:length]


HKDF_SHA256 = Kdf("HKDF-SHA256", 0x0001, hashes.SHA256)
HKDF_SHA384 = Kdf("HKDF-SHA384", 0x0002, hashes.SHA384)
HKDF_SHA512 = Kdf("HKDF-SHA512", 0x0003, hashes.SHA512)
