"""Chunked attachment encryption (DESIGN.md §3, §7; ATTACKS.md D3, E9, E10, E11, K6).

A file is sealed under a fresh random key into a blob that the relay stores. The note that
mentions the file, signed by its author, carries an :class:`AttachmentRef`: the key, the
key's commitment, the blob's SHA-256, its chunk count and its padded size.

::

    k           file key: 32 bytes from the caller's RandomSource, used for one file only
    commitment  = HKDF-Expand-SHA256(k, opaque("casecircle attachment commitment"), 32)
    chunk key   = HKDF-Expand-SHA256(k, opaque("casecircle attachment chunk key"), 32)

    stream      = uint64 length ‖ file ‖ zeros          |stream| = max(256, Padmé(8 + length))
    P_0 … P_n-1 = the stream cut into 64 KiB pieces; only the last may be shorter
    C_i         = AES-256-GCM(chunk key, nonce = uint32 0 ‖ uint64 i,
                              aad = "casecircle attachment v1" ‖ uint64 i ‖ uint8 [i = n-1], P_i)
    blob        = commitment ‖ C_0 ‖ C_1 ‖ … ‖ C_n-1    |blob| = 32 + |stream| + 16·n

What each part defends against:

* **One blob, two keys (E9).** AES-GCM is not key-committing: whoever picks two keys can
  craft one ciphertext whose tag verifies under both, decrypting to two different files
  ("invisible salamanders": Grubbs, Lu, Ristenpart, CRYPTO 2017; Albertini et al., USENIX
  Security 2022). The blob therefore begins with the commitment of the key it was sealed
  under, and is opened only by a key whose commitment equals it (a constant-time compare
  before any chunk is decrypted). The commitment is HMAC-SHA256 under the key, so two keys
  sharing it would be a SHA-256 collision: a blob has at most one key, hence one plaintext.
* **Blobs swapped between notes (E10).** The signed note names the blob by SHA-256 and by
  its key's commitment; another note's blob fails both.
* **Truncation, reordering, duplication, splicing.** The nonce and the associated data carry
  the chunk index, the last chunk is sealed as final, and the ref fixes the chunk count:
  a moved, repeated or foreign chunk fails its tag, and a short blob falls short of the
  count at :meth:`AttachmentOpener.finalize`.
* **Sizes (D3).** The relay sees the padded size only; Padmé leaves O(log log L) bits of the
  length, at most 12 % overhead. The true length travels inside the encrypted stream, and
  the padding must be zeros and exactly Padmé long, so the encoding is canonical.
* **No compression (K6).** Files are sealed as given; a compressed size depends on content.
* **No names (E11).** The blob holds no file name, media type or path; those travel inside
  the encrypted note. The client sanitises a received name before it touches the disk
  (path separators, ``..``, reserved device names such as ``CON`` or ``NUL``, control and
  bidirectional characters).

Streaming: :class:`AttachmentSealer` and :class:`AttachmentOpener` take bytes in pieces of
any size, return what is ready, and between calls keep at most one chunk; ``chunks_done`` against
``chunk_count`` drives a progress bar. Plaintext returned by :meth:`AttachmentOpener.update`
is authentic (sealed under the note's key), but the file is complete and is the very blob
the note names only once :meth:`AttachmentOpener.finalize` returns: write it to a temporary
file and move that into place only then. Each key seals one file; with a repeated key the
GCM nonces would repeat, so the ``RandomSource`` must be a real one.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from crypto.aead import AES_256_GCM
from crypto.errors import CryptoError, InvalidLengthError, InvalidTagError
from crypto.kdf import HKDF_SHA256
from crypto.padding import MINIMUM_PADDED_LENGTH, padded_length, padme
from crypto.random import RandomSource
from crypto.tls import opaque

FORMAT_VERSION = 1
CHUNK_SIZE = 64 * 1024
KEY_SIZE = 32
COMMITMENT_SIZE = 32
HASH_SIZE = 32
LENGTH_PREFIX_SIZE = 8
MAX_CHUNK_COUNT = (1 << 32) - 1

_AEAD = AES_256_GCM
_AAD_LABEL = b"casecircle attachment v1"
_COMMITMENT_LABEL = b"casecircle attachment commitment"
_CHUNK_KEY_LABEL = b"casecircle attachment chunk key"
_REF = struct.Struct(">B32s32s32sIQ")
REF_SIZE = _REF.size  # 109


class AttachmentError(CryptoError):
    """An attachment could not be sealed or opened."""

    code = "attachment"


class AttachmentFormatError(AttachmentError):
    """Sizes or structure are wrong: truncated, extended, or not canonically padded."""

    code = "attachment_format"


class AttachmentCommitmentError(AttachmentError):
    """The key does not match the commitment of the note or of the blob (E9)."""

    code = "attachment_commitment"


class AttachmentHashError(AttachmentError):
    """The blob is not the one the note names (E10)."""

    code = "attachment_hash"


class AttachmentChunkError(AttachmentError):
    """A chunk does not authenticate: altered, moved, repeated, or from another file."""

    code = "attachment_chunk"


class AttachmentStateError(AttachmentError):
    """A sealer or opener used out of turn: after it finished or failed, or fed too much."""

    code = "attachment_state"


class AttachmentKey:
    """The key of one file. Its ``repr`` is redacted and equality is constant-time."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) != KEY_SIZE:
            raise InvalidLengthError(f"an attachment key is {KEY_SIZE} bytes")
        self._secret = bytes(secret)

    @classmethod
    def generate(cls, rng: RandomSource) -> AttachmentKey:
        return cls(rng.random_bytes(KEY_SIZE))

    @classmethod
    def from_bytes(cls, data: bytes) -> AttachmentKey:
        return cls(data)

    def to_bytes(self) -> bytes:
        return self._secret

    def commitment(self) -> bytes:
        """HKDF-Expand = HMAC-SHA256 under the key: a binding, non-secret name for it."""
        return HKDF_SHA256.expand(self._secret, opaque(_COMMITMENT_LABEL), COMMITMENT_SIZE)

    def _chunk_key(self) -> bytes:
        return HKDF_SHA256.expand(self._secret, opaque(_CHUNK_KEY_LABEL), _AEAD.key_size)

    def __repr__(self) -> str:
        return "AttachmentKey(<redacted>)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AttachmentKey):
            return NotImplemented
        return hmac.compare_digest(self._secret, other._secret)

    def __hash__(self) -> int:
        return hash(self.commitment())


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentRef:
    """What a note carries about its file; built only if the fields agree with each other."""

    key: AttachmentKey
    commitment: bytes
    ciphertext_hash: bytes
    chunk_count: int
    padded_size: int

    def __post_init__(self) -> None:
        if len(self.commitment) != COMMITMENT_SIZE or len(self.ciphertext_hash) != HASH_SIZE:
            raise AttachmentFormatError("attachment commitment and hash are 32 bytes each")
        if not _is_padded_size(self.padded_size):
            raise AttachmentFormatError("attachment size is not a padded size")
        if self.chunk_count != _chunk_count(self.padded_size):
            raise AttachmentFormatError("attachment chunk count does not match its size")
        if self.chunk_count > MAX_CHUNK_COUNT:
            raise AttachmentFormatError("attachment has too many chunks")
        if not hmac.compare_digest(self.key.commitment(), self.commitment):
            raise AttachmentCommitmentError("attachment key does not match its commitment")

    @property
    def blob_size(self) -> int:
        return COMMITMENT_SIZE + self.padded_size + _AEAD.tag_size * self.chunk_count

    def to_bytes(self) -> bytes:
        """Fixed layout: version, key, commitment, hash, uint32 chunks, uint64 padded size."""
        return _REF.pack(
            FORMAT_VERSION,
            self.key.to_bytes(),
            self.commitment,
            self.ciphertext_hash,
            self.chunk_count,
            self.padded_size,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> AttachmentRef:
        if len(data) != REF_SIZE:
            raise AttachmentFormatError(f"an attachment reference is {REF_SIZE} bytes")
        version, key, commitment, ciphertext_hash, chunk_count, padded_size = _REF.unpack(data)
        if version != FORMAT_VERSION:
            raise AttachmentFormatError(f"unknown attachment format version {version}")
        return cls(
            key=AttachmentKey(key),
            commitment=commitment,
            ciphertext_hash=ciphertext_hash,
            chunk_count=chunk_count,
            padded_size=padded_size,
        )


class AttachmentSealer:
    """Seals one file of a size declared up front; feed it with :meth:`update`.

    The sizes (and so the blob size to declare to the relay) are known at construction.
    """

    def __init__(self, plaintext_size: int, rng: RandomSource) -> None:
        if type(plaintext_size) is not int or plaintext_size < 0:
            raise InvalidLengthError("an attachment size is a non-negative integer")
        self._plaintext_size = plaintext_size
        self._padded_size = padded_length(LENGTH_PREFIX_SIZE + plaintext_size)
        self._chunk_count = _chunk_count(self._padded_size)
        if self._chunk_count > MAX_CHUNK_COUNT:
            raise InvalidLengthError("attachment is too large")
        self._key = AttachmentKey.generate(rng)
        self._chunk_key = self._key._chunk_key()
        self._pending = bytearray(plaintext_size.to_bytes(LENGTH_PREFIX_SIZE, "big"))
        self._fed = 0
        self._index = 0
        self._hash = hashlib.sha256()
        self._started = False
        self._finished = False

    @property
    def plaintext_size(self) -> int:
        return self._plaintext_size

    @property
    def padded_size(self) -> int:
        return self._padded_size

    @property
    def chunk_count(self) -> int:
        return self._chunk_count

    @property
    def blob_size(self) -> int:
        return COMMITMENT_SIZE + self._padded_size + _AEAD.tag_size * self._chunk_count

    @property
    def chunks_done(self) -> int:
        return self._index

    def update(self, data: bytes) -> bytes:
        """Take the next piece of the file; return the blob bytes that are ready (maybe none)."""
        if self._finished:
            raise AttachmentStateError("the attachment was already finalized")
        if self._fed + len(data) > self._plaintext_size:
            raise AttachmentStateError("more plaintext than the declared size")
        self._fed += len(data)
        self._pending += data
        out = bytearray(self._start())
        while len(self._pending) >= CHUNK_SIZE and self._index < self._chunk_count - 1:
            out += self._seal_next(CHUNK_SIZE)
        return bytes(out)

    def finalize(self) -> tuple[bytes, AttachmentRef]:
        """Pad, seal what is left, and return the last blob bytes and the note's reference."""
        if self._finished:
            raise AttachmentStateError("the attachment was already finalized")
        if self._fed != self._plaintext_size:
            raise AttachmentStateError("less plaintext than the declared size")
        out = bytearray(self._start())
        while self._index < self._chunk_count:
            out += self._seal_next(_chunk_length(self._padded_size, self._index))
        self._finished = True
        ref = AttachmentRef(
            key=self._key,
            commitment=self._key.commitment(),
            ciphertext_hash=self._hash.digest(),
            chunk_count=self._chunk_count,
            padded_size=self._padded_size,
        )
        return bytes(out), ref

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        commitment = self._key.commitment()
        self._hash.update(commitment)
        return commitment

    def _seal_next(self, length: int) -> bytes:
        piece = bytes(self._pending[:length])
        del self._pending[:length]
        piece += bytes(length - len(piece))  # the zero padding at the end of the stream
        final = self._index == self._chunk_count - 1
        sealed = _AEAD.seal(self._chunk_key, _nonce(self._index), _aad(self._index, final), piece)
        self._hash.update(sealed)
        self._index += 1
        return sealed


class AttachmentOpener:
    """Opens the blob named by ``ref``; feed it with :meth:`update`, then :meth:`finalize`.

    Any failure poisons the opener: later calls raise :class:`AttachmentStateError`.
    """

    def __init__(self, ref: AttachmentRef) -> None:
        self._ref = ref
        self._chunk_key = ref.key._chunk_key()
        self._pending = bytearray()
        self._hash = hashlib.sha256()
        self._header_checked = False
        self._index = 0
        self._offset = 0  # of the next chunk's plaintext in the stream
        self._data_end = 0  # stream offset where the file ends and the padding starts
        self._state = "open"

    @property
    def chunk_count(self) -> int:
        return self._ref.chunk_count

    @property
    def chunks_done(self) -> int:
        return self._index

    def update(self, data: bytes) -> bytes:
        """Take the next piece of the blob; return the file bytes authenticated so far."""
        self._check_open()
        try:
            return self._update(data)
        except AttachmentError:
            self._state = "failed"
            raise

    def finalize(self) -> None:
        """Raise unless the whole blob arrived and it is the blob the note names."""
        self._check_open()
        self._state = "failed"
        if not self._header_checked or self._index < self._ref.chunk_count or self._pending:
            raise AttachmentFormatError("attachment blob is truncated")
        if not hmac.compare_digest(self._hash.digest(), self._ref.ciphertext_hash):
            raise AttachmentHashError("attachment blob is not the one the note names")
        self._state = "done"

    def _check_open(self) -> None:
        if self._state != "open":
            raise AttachmentStateError(f"the attachment opener is {self._state}")

    def _update(self, data: bytes) -> bytes:
        self._pending += data
        if not self._header_checked:
            if len(self._pending) < COMMITMENT_SIZE:
                return b""
            commitment = bytes(self._pending[:COMMITMENT_SIZE])
            del self._pending[:COMMITMENT_SIZE]
            if not hmac.compare_digest(commitment, self._ref.commitment):
                raise AttachmentCommitmentError("attachment blob is committed to another key")
            self._hash.update(commitment)
            self._header_checked = True
        out = bytearray()
        while self._index < self._ref.chunk_count:
            size = _chunk_length(self._ref.padded_size, self._index) + _AEAD.tag_size
            if len(self._pending) < size:
                break
            sealed = bytes(self._pending[:size])
            del self._pending[:size]
            self._hash.update(sealed)
            out += self._release(self._open_chunk(sealed))
        if self._index == self._ref.chunk_count and self._pending:
            raise AttachmentFormatError("attachment blob has trailing bytes")
        return bytes(out)

    def _open_chunk(self, sealed: bytes) -> bytes:
        final = self._index == self._ref.chunk_count - 1
        try:
            piece = _AEAD.open(
                self._chunk_key, _nonce(self._index), _aad(self._index, final), sealed
            )
        except InvalidTagError:
            raise AttachmentChunkError(f"attachment chunk {self._index} is not authentic") from None
        self._index += 1
        return piece

    def _release(self, piece: bytes) -> bytes:
        """The file bytes in ``piece``; the length prefix is read and the padding checked."""
        start = self._offset
        self._offset += len(piece)
        if start == 0:  # the first chunk is at least 256 bytes: it holds the whole prefix
            length = int.from_bytes(piece[:LENGTH_PREFIX_SIZE], "big")
            if padded_length(LENGTH_PREFIX_SIZE + length) != self._ref.padded_size:
                raise AttachmentFormatError("attachment length does not match its padded size")
            self._data_end = LENGTH_PREFIX_SIZE + length
        data_from = max(start, LENGTH_PREFIX_SIZE) - start
        data_to = max(data_from, min(self._offset, self._data_end) - start)
        padding = piece[data_to:]
        if padding.count(0) != len(padding):
            raise AttachmentFormatError("attachment padding is not zeros")
        return piece[data_from:data_to]


def seal_attachment(data: bytes, rng: RandomSource) -> tuple[bytes, AttachmentRef]:
    """Seal a whole file held in memory: the blob and the note's reference."""
    sealer = AttachmentSealer(len(data), rng)
    head = sealer.update(data)
    tail, ref = sealer.finalize()
    return head + tail, ref


def open_attachment(blob: bytes, ref: AttachmentRef) -> bytes:
    """Open a whole blob held in memory; its size and hash are checked before decrypting."""
    if len(blob) < ref.blob_size:
        raise AttachmentFormatError("attachment blob is truncated")
    if len(blob) > ref.blob_size:
        raise AttachmentFormatError("attachment blob has trailing bytes")
    if not hmac.compare_digest(hashlib.sha256(blob).digest(), ref.ciphertext_hash):
        raise AttachmentHashError("attachment blob is not the one the note names")
    opener = AttachmentOpener(ref)
    data = opener.update(blob)
    opener.finalize()
    return data


def _is_padded_size(size: int) -> bool:
    return type(size) is int and size >= MINIMUM_PADDED_LENGTH and padme(size) == size


def _chunk_count(padded_size: int) -> int:
    return -(-padded_size // CHUNK_SIZE)


def _chunk_length(padded_size: int, index: int) -> int:
    return min(CHUNK_SIZE, padded_size - index * CHUNK_SIZE)


def _nonce(index: int) -> bytes:
    return bytes(4) + index.to_bytes(8, "big")


def _aad(index: int, final: bool) -> bytes:
    return _AAD_LABEL + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")
