"""RFC 9420 §8.4: folding pre-shared keys into one ``psk_secret`` for the key schedule.

Every PSK is bound to its identity and its place in the list, then chained::

    psk_extracted[i] = Extract(0, psk[i])
    psk_input[i]     = ExpandWithLabel(psk_extracted[i], "derived psk", PSKLabel, Nh)
    psk_secret[0]    = 0
    psk_secret[i+1]  = Extract(salt=psk_input[i], ikm=psk_secret[i])

    struct { PreSharedKeyID id; uint16 index; uint16 count; } PSKLabel;

so the same PSK under another id, at another position or in a list of another length
gives a different secret. With no PSKs the result is the all-zero ``psk_secret``.

The ids are :class:`~protocol.mls.proposals.PreSharedKeyID` values as a Commit's
PreSharedKey proposals or a Welcome's GroupSecrets carry them; looking up each PSK's value
(the application's store, or a past epoch's ``resumption_psk``) is the caller's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from crypto.labels import expand_with_label
from crypto.suites import CipherSuite
from protocol.codec import Writer
from protocol.errors import ValidationError
from protocol.mls.key_schedule import PskSecret
from protocol.mls.proposals import PreSharedKeyID

MAX_PSKS = 0xFFFF
"""``PSKLabel.count`` is a ``uint16``."""


@dataclass(frozen=True, slots=True, eq=False)
class PskInput:
    """One PSK to inject: its ``PreSharedKeyID`` and its secret value."""

    psk_id: PreSharedKeyID
    psk: bytes = field(repr=False)


def encode_psk_label(psk_id: PreSharedKeyID, index: int, count: int) -> bytes:
    """``PSKLabel``: the id's own encoding (not length-prefixed), then index and count."""
    if not 0 <= index < count <= MAX_PSKS:
        raise ValidationError(f"PSK {index} of {count} cannot be labelled")
    w = Writer()
    psk_id.encode(w)
    w.uint16(index)
    w.uint16(count)
    return w.getvalue()


def derive_psk_secret(suite: CipherSuite, psks: Sequence[PskInput]) -> PskSecret:
    """``psk_secret`` for the PSKs in the order the Commit or GroupSecrets lists them."""
    count = len(psks)
    if count > MAX_PSKS:
        raise ValidationError(f"{count} PSKs are more than a PSKLabel can count")
    zero = bytes(suite.hash_size)
    secret = zero
    for index, entry in enumerate(psks):
        extracted = suite.extract(zero, entry.psk)
        label = encode_psk_label(entry.psk_id, index, count)
        psk_input = expand_with_label(suite, extracted, "derived psk", label, suite.hash_size)
        secret = suite.extract(psk_input, secret)
    return PskSecret(secret)
