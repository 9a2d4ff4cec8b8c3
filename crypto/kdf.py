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

_IPAD = bytes(x ^ 0x36 for x in range(256))  # translation tables of RFC 2104's pads
_OPAD = bytes(x ^ 0x5C for x in range(256))


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

    def expander(self, prk: bytes, info_head: bytes, length: int) -> Expander:
        """``HKDF-Expand(prk, info_head || tail, length)`` for many tails: see :class:`Expander`.

        Refuses what :meth:`expand` refuses, here rather than at each call."""
        return Expander(self, prk, info_head, length)


class Expander:
    """HKDF-Expand under one key, with one start of ``info`` and one length: ``expand(tail)``
    is ``kdf.expand(prk, info_head + tail, length)``.

    HMAC (RFC 2104) hashes the key's inner and outer pad blocks before any data; here they,
    and ``info_head``, are hashed once, and each call continues copies of those hash states
    — the same HMAC, for a fraction of the cost of a one-shot call, when one key derives
    many values (one epoch's secret gives every item of the epoch its key and nonce). The
    hash states determine the HMAC as the key does: treat this object as key material.
    """

    __slots__ = ("_info_head", "_inner", "_kdf", "_length", "_one_block", "_outer", "_prk")

    def __init__(self, kdf: Kdf, prk: bytes, info_head: bytes, length: int) -> None:
        if not 0 < length <= 255 * kdf.hash_size:
            raise InvalidLengthError(f"HKDF-Expand cannot produce {length} bytes")
        if len(prk) < kdf.hash_size:
            raise InvalidLengthError("HKDF-Expand key shorter than the hash output")
        self._kdf, self._prk, self._info_head, self._length = kdf, prk, info_head, length
        self._one_block = length <= kdf.hash_size  # as every MLS and HPKE key and nonce is
        inner, outer = hashlib.new(kdf._digest), hashlib.new(kdf._digest)
        block_size = inner.block_size
        key = hashlib.new(kdf._digest, prk).digest() if len(prk) > block_size else prk
        key = key.ljust(block_size, b"\0")
        inner.update(key.translate(_IPAD))
        inner.update(info_head)
        outer.update(key.translate(_OPAD))
        self._inner, self._outer = inner, outer

    def expand(self, tail: bytes) -> bytes:
        """``HKDF-Expand(prk, info_head || tail, length)``."""
        if not self._one_block:
            return self._kdf.expand(self._prk, self._info_head + tail, self._length)
        # T(1) = HMAC(PRK, info || 0x01) = H(opad-block || H(ipad-block || info || 0x01))
        inner = self._inner.copy()
        inner.update(tail + b"\x01")
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[: self._length]


HKDF_SHA256 = Kdf("HKDF-SHA256", 0x0001, hashes.SHA256)
HKDF_SHA384 = Kdf("HKDF-SHA384", 0x0002, hashes.SHA384)
HKDF_SHA512 = Kdf("HKDF-SHA512", 0x0003, hashes.SHA512)
