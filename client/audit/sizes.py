"""Which sizes the relay can see, and whether each is one of the documented padded sizes
(DESIGN §7, ATTACKS D3).

Clients pad three things with Padmé (:mod:`crypto.padding`: at least 256 bytes, then a
length keeping O(log log L) significant bits):

* the plaintext of every MLS PrivateMessage
  (:func:`protocol.mls.message_protection.protect_private`), so ``len(ciphertext) - 16``
  must be a padded size;
* the sealed item of a case envelope (:func:`protocol.case_envelope.seal_item`), carried in
  the clear ``authenticated_data`` of application messages: the same rule for its ciphertext;
* the stream of an attachment (:mod:`crypto.attachments`):
  ``|blob| = 32 + P + 16 · ceil(P / 65536)`` with ``P`` a padded size.

The 16 is the tag of every AEAD an MLS cipher suite uses (AES-GCM, ChaCha20-Poly1305) and of
the attachments' AES-256-GCM. A length that passes is *consistent with* padding; that it
hides what the documentation says it hides is the design's claim, not something a length
can prove. Not padded, so visible exactly: Welcomes, KeyPackages, the coordinator's
PublicMessages and the 28-byte encrypted sender data (docs/guide-auditor.md).
"""

from __future__ import annotations

from crypto.attachments import CHUNK_SIZE, COMMITMENT_SIZE
from crypto.padding import MINIMUM_PADDED_LENGTH, padme

AEAD_TAG_SIZE = 16
SENDER_DATA_CIPHERTEXT_SIZE = 4 + 4 + 4 + AEAD_TAG_SIZE
"""uint32 leaf index, uint32 generation, 4-byte reuse guard (RFC 9420 §6.3.2), sealed."""


def is_padded(length: int) -> bool:
    """Whether ``length`` is a length :func:`crypto.padding.padded_length` can produce."""
    return length >= MINIMUM_PADDED_LENGTH and padme(length) == length


def is_padded_ciphertext(length: int) -> bool:
    """Whether an AEAD ciphertext of ``length`` bytes seals a padded plaintext."""
    return is_padded(length - AEAD_TAG_SIZE)


def attachment_stream_size(blob_size: int) -> int | None:
    """The padded stream size of an attachment blob of ``blob_size`` bytes, or ``None`` if
    no padded stream seals to that size."""
    body = blob_size - COMMITMENT_SIZE
    if body <= 0:
        return None
    first = max(1, body // (CHUNK_SIZE + AEAD_TAG_SIZE))
    for chunks in range(first, first + 2):
        stream = body - AEAD_TAG_SIZE * chunks
        if is_padded(stream) and -(-stream // CHUNK_SIZE) == chunks:
            return stream
    return None
