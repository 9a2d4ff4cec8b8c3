"""RFC 9420 §8.2: transcript hashes, and the confirmation tag that makes them agree.

Every commit folds into two running hashes, so that a member who accepts epoch ``n`` has
accepted exactly the same history of commits as everyone else in it::

    confirmed[n] = Hash(interim[n-1] || ConfirmedTranscriptHashInput[n])
                   (wire_format, FramedContent of the commit, signature)
    interim[n]   = Hash(confirmed[n] || InterimTranscriptHashInput[n])
                   (the commit's confirmation_tag)
    confirmation_tag = MAC(confirmation_key[n], confirmed[n])

with ``confirmed[0] = interim[0] = ""``. The confirmation tag of a commit is checked in
constant time and a mismatch raises :class:`ConfirmationTagError`: the sender and we do
not have the same epoch (a forked view, or a forged commit).

The hash inputs come in already encoded (``ConfirmedTranscriptHashInput`` and
``InterimTranscriptHashInput`` live in protocol/mls/framing.py).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from crypto.suites import CipherSuite
from protocol.errors import ValidationError


class ConfirmationTagError(ValidationError):
    """A commit's or GroupInfo's confirmation tag does not match our key schedule."""

    code = "confirmation_tag"


def confirmation_tag(
    suite: CipherSuite, confirmation_key: bytes, confirmed_transcript_hash: bytes
) -> bytes:
    return suite.mac(confirmation_key, confirmed_transcript_hash)


def verify_confirmation_tag(
    suite: CipherSuite, confirmation_key: bytes, confirmed_transcript_hash: bytes, tag: bytes
) -> None:
    """Raise :class:`ConfirmationTagError` unless ``tag`` is the expected MAC."""
    expected = confirmation_tag(suite, confirmation_key, confirmed_transcript_hash)
    if not hmac.compare_digest(expected, tag):
        raise ConfirmationTagError("confirmation tag does not match")


def confirmed_transcript_hash(
    suite: CipherSuite, interim_transcript_hash: bytes, confirmed_input: bytes
) -> bytes:
    """The next confirmed hash from the previous interim hash and the encoded
    ``ConfirmedTranscriptHashInput`` of the commit."""
    return suite.hash(interim_transcript_hash + confirmed_input)


def interim_transcript_hash(
    suite: CipherSuite, confirmed_transcript_hash: bytes, interim_input: bytes
) -> bytes:
    """The interim hash from the confirmed hash and the encoded
    ``InterimTranscriptHashInput`` (the confirmation tag as ``opaque<V>``)."""
    return suite.hash(confirmed_transcript_hash + interim_input)


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptHashes:
    """The two running hashes of one epoch (both empty before the first commit)."""

    confirmed: bytes = b""
    interim: bytes = b""

    def after_commit(
        self, suite: CipherSuite, confirmed_input: bytes, interim_input: bytes
    ) -> TranscriptHashes:
        """Both hashes after the commit whose encoded hash inputs are given."""
        confirmed = confirmed_transcript_hash(suite, self.interim, confirmed_input)
        return TranscriptHashes(
            confirmed=confirmed,
            interim=interim_transcript_hash(suite, confirmed, interim_input),
        )
