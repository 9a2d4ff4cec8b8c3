"""DESIGN §4: how a case item is sealed so that it stays readable — and verifiable — from the
case's history long after the MLS epoch it was written in has moved on.

Each epoch of a case's MLS group gives two exporter secrets (RFC 9420 §8.5)::

    history_key[e] = MLS-Exporter("casecircle note", group_id, 32)   seals notes, case info
    ring_key[e]    = MLS-Exporter("casecircle ring", group_id, 32)   seals history rings

An item is sealed into an envelope, which travels as the ``authenticated_data`` of an MLS
application message (so a member who joins later can read it from the relay's log without
that epoch's MLS keys, given the epoch's history key from the ring)::

    enum { content(1), ring(2), (255) } EnvelopeKind;

    struct {
        uint16 version;                  /* 1 */
        EnvelopeKind kind;
        uint64 epoch;
        opaque item_id[16];              /* random, unique per item */
        opaque ciphertext<V>;            /* AEAD of SealedItem */
    } CaseEnvelope;

    key   = ExpandWithLabel(secret, "casecircle item key",   item_id, Nk)
    nonce = ExpandWithLabel(secret, "casecircle item nonce", item_id, Nn)
    aad   = uint16 version || uint8 kind || opaque group_id<V> || uint64 epoch || item_id

    struct {
        opaque author[16];               /* device id of the author */
        uint64 counter;                  /* the author's running count of items in the case */
        opaque item<V>;                  /* protocol.case_items.CaseItem */
        opaque signature<V>;             /* SignWithLabel(author, "casecircle item", ItemTBS) */
        /* then zero bytes up to the padded size */
    } SealedItem;

    ItemTBS = opaque group_id<V> || uint8 kind || uint64 epoch || item_id || author
              || uint64 counter || opaque item<V>

The author signs *inside* the ciphertext (sign, then encrypt) so that the relay learns
neither who wrote an item nor, by trying members' keys on a visible signature, who might
have; the signature covers the group id, kind, epoch and item id, so an item moved to
another case, epoch or slot fails (ATTACKS B6, B7). The per-author ``counter`` lets readers
see a withheld item as a gap (B4, B5). Plaintexts are padded with Padmé (at least 256
bytes) because MLS pads its own ciphertext but not ``authenticated_data``.

Content items (case info, notes) travel only in ``content`` envelopes and history rings only
in ``ring`` envelopes (ATTACKS A9): a ring sealed as content is refused, and vice versa.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol, Self

from crypto.errors import InvalidSignatureError, InvalidTagError
from crypto.labels import LABEL_PREFIX, sign_with_label, verify_with_label
from crypto.padding import padded_length
from crypto.random import RandomSource
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite
from crypto.tls import opaque
from protocol.case_items import CaseItem, HistoryRing, ItemType, decode_item, encode_item, item_type
from protocol.codec import Reader, Struct, Writer, decode_exact
from protocol.directory import ID_SIZE
from protocol.errors import DecodeError, ValidationError

ENVELOPE_VERSION = 1
HISTORY_LABEL = "casecircle note"
RING_LABEL = "casecircle ring"
ITEM_SIGNATURE_LABEL = "casecircle item"
EXPORTED_KEY_SIZE = 32

_VERSION = ENVELOPE_VERSION.to_bytes(2, "big")
_HEAD = struct.Struct(f">HBQ{ID_SIZE}s")  # version, kind, epoch, item_id
_HEAD_AFTER_VERSION = struct.Struct(f">BQ{ID_SIZE}s")


class EnvelopeError(ValidationError):
    """A case envelope fails a check."""

    code = "envelope"


class EnvelopeVersionError(EnvelopeError):
    code = "envelope_version"


class EnvelopeDecryptError(EnvelopeError):
    """The envelope does not open under the epoch's key: forged, altered, or moved."""

    code = "envelope_decrypt"


class EnvelopeKindError(EnvelopeError):
    """An item in an envelope of the wrong kind (a ring as content, or the reverse)."""

    code = "envelope_kind"


class ItemSignatureError(EnvelopeError):
    """The item's author signature does not verify under the author's certified key."""

    code = "item_signature"


class EnvelopeKind(IntEnum):
    CONTENT = 1
    RING = 2


_KINDS = {kind.value: kind for kind in EnvelopeKind}


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class EpochKeys:
    """The two exported secrets of one epoch; whoever holds them reads that epoch's items."""

    epoch: int
    history_key: bytes
    ring_key: bytes

    def __repr__(self) -> str:
        return f"EpochKeys(epoch={self.epoch}, <redacted>)"

    def secret(self, kind: EnvelopeKind) -> bytes:
        return self.history_key if kind == EnvelopeKind.CONTENT else self.ring_key


def export_epoch_keys(epoch: int, group_id: bytes, exporter: ExportFn) -> EpochKeys:
    """Derive an epoch's keys with the group's MLS exporter (``Group.export_secret``)."""
    return EpochKeys(
        epoch=epoch,
        history_key=exporter(HISTORY_LABEL, group_id, EXPORTED_KEY_SIZE),
        ring_key=exporter(RING_LABEL, group_id, EXPORTED_KEY_SIZE),
    )


class ExportFn(Protocol):
    """The shape of ``Group.export_secret(label, context, length)``."""

    def __call__(self, label: str, context: bytes, length: int, /) -> bytes: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseEnvelope(Struct):
    kind: EnvelopeKind
    epoch: int
    item_id: bytes
    ciphertext: bytes

    def __post_init__(self) -> None:
        if len(self.item_id) != ID_SIZE:
            raise DecodeError(f"an item id is {ID_SIZE} bytes")
        if not 0 <= self.epoch < 2**64:
            raise DecodeError("epoch out of range")

    def encode(self, w: Writer) -> None:
        w.fixed(self.to_bytes())

    def to_bytes(self) -> bytes:
        # The fixed-size head is one struct (every note pays for this encoding and for the
        # decoding below; the fields were range-checked when the envelope was built).
        head = _HEAD.pack(ENVELOPE_VERSION, self.kind, self.epoch, self.item_id)
        return head + opaque(self.ciphertext)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        version = r.uint16()
        if version != ENVELOPE_VERSION:
            raise EnvelopeVersionError(f"unknown case envelope version {version}")
        kind, epoch, item_id = _HEAD_AFTER_VERSION.unpack(r.fixed(_HEAD_AFTER_VERSION.size))
        envelope_kind = _KINDS.get(kind)  # a dict lookup: far cheaper than EnvelopeKind(kind)
        if envelope_kind is None:
            raise DecodeError(f"unknown envelope kind {kind}")
        return cls(kind=envelope_kind, epoch=epoch, item_id=item_id, ciphertext=r.opaque())


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenedItem:
    """An item that decrypted under its epoch's key; its author signature is not yet checked
    — :meth:`verify` with the author's certified key returns the item to act on."""

    group_id: bytes
    kind: EnvelopeKind
    epoch: int
    item_id: bytes
    author: bytes
    counter: int
    encoded_item: bytes
    signature: bytes

    def verify(self, suite: CipherSuite, author_public_key: bytes) -> VerifiedItem:
        tbs = _tbs(
            self.group_id,
            self.kind,
            self.epoch,
            self.item_id,
            self.author,
            self.counter,
            self.encoded_item,
        )
        try:
            verify_with_label(suite, author_public_key, ITEM_SIGNATURE_LABEL, tbs, self.signature)
        except InvalidSignatureError as exc:
            raise ItemSignatureError("the item's signature does not verify") from exc
        item = decode_item(self.encoded_item)
        expected = (
            EnvelopeKind.RING if item_type(item) == ItemType.HISTORY_RING else EnvelopeKind.CONTENT
        )
        if expected != self.kind:
            raise EnvelopeKindError(f"a {type(item).__name__} in a {self.kind.name} envelope")
        if isinstance(item, HistoryRing) and item.keys and item.keys[-1][0] >= self.epoch:
            # A ring carries the keys of the epochs before its own (case_items.HistoryRing):
            # one naming its own or a later epoch can only plant a false key (ATTACKS A8).
            raise EnvelopeError(f"a ring sealed in epoch {self.epoch} holds a key of it or later")
        return VerifiedItem(
            epoch=self.epoch,
            item_id=self.item_id,
            author=self.author,
            counter=self.counter,
            item=item,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedItem:
    epoch: int
    item_id: bytes
    author: bytes
    counter: int
    item: CaseItem


def _tbs(
    group_id: bytes,
    kind: EnvelopeKind,
    epoch: int,
    item_id: bytes,
    author: bytes,
    counter: int,
    encoded_item: bytes,
) -> bytes:
    return (
        opaque(group_id)
        + bytes([kind])
        + epoch.to_bytes(8, "big")
        + item_id
        + author
        + counter.to_bytes(8, "big")
        + opaque(encoded_item)
    )


def _aad(group_id: bytes, kind: EnvelopeKind, epoch: int, item_id: bytes) -> bytes:
    return _VERSION + bytes([kind]) + opaque(group_id) + epoch.to_bytes(8, "big") + item_id


@functools.cache
def _kdf_label_heads(key_size: int, nonce_size: int) -> tuple[bytes, bytes]:
    """The constant start of the KDFLabel of the item key and of the item nonce (RFC 9420
    §8: ``uint16 length || opaque label<V>``); each item's id follows as its context."""
    return (
        key_size.to_bytes(2, "big") + opaque(LABEL_PREFIX + b"casecircle item key"),
        nonce_size.to_bytes(2, "big") + opaque(LABEL_PREFIX + b"casecircle item nonce"),
    )


def _key_nonce(suite: CipherSuite, secret: bytes, item_id: bytes) -> tuple[bytes, bytes]:
    """``ExpandWithLabel(secret, "casecircle item key" / "casecircle item nonce", item_id,
    Nk / Nn)``, with the labels encoded once rather than for every item."""
    key_size, nonce_size = suite.aead.key_size, suite.aead.nonce_size
    key_head, nonce_head = _kdf_label_heads(key_size, nonce_size)
    context = opaque(item_id)
    return (
        suite.expand(secret, key_head + context, key_size),
        suite.expand(secret, nonce_head + context, nonce_size),
    )


def seal_item(
    suite: CipherSuite,
    group_id: bytes,
    keys: EpochKeys,
    author: bytes,
    counter: int,
    signing_key: SigningKey,
    item: CaseItem,
    rng: RandomSource,
) -> CaseEnvelope:
    """Sign ``item`` as ``author`` and seal it under the epoch's key for its kind."""
    if len(author) != ID_SIZE:
        raise EnvelopeError(f"an author id is {ID_SIZE} bytes")
    kind = EnvelopeKind.RING if type(item) is HistoryRing else EnvelopeKind.CONTENT
    item_id = rng.random_bytes(ID_SIZE)
    # The layouts of _tbs and _aad, built from shared pieces, each encoded once (sealing is
    # on every note's path): SealedItem up to its signature is also the end of ItemTBS.
    group, kind_byte, epoch = opaque(group_id), bytes([kind]), keys.epoch.to_bytes(8, "big")
    signed = author + counter.to_bytes(8, "big") + opaque(encode_item(item))
    tbs = group + kind_byte + epoch + item_id + signed
    body = signed + opaque(sign_with_label(suite, signing_key, ITEM_SIGNATURE_LABEL, tbs))
    plaintext = body + bytes(padded_length(len(body)) - len(body))
    key, nonce = _key_nonce(suite, keys.secret(kind), item_id)
    aad = _VERSION + kind_byte + group + epoch + item_id
    ciphertext = suite.aead.seal(key, nonce, aad, plaintext)
    return CaseEnvelope(kind=kind, epoch=keys.epoch, item_id=item_id, ciphertext=ciphertext)


def open_envelope(
    suite: CipherSuite, group_id: bytes, keys: EpochKeys, envelope: CaseEnvelope
) -> OpenedItem:
    """Decrypt an envelope of ``keys.epoch``; the author's signature is checked by
    :meth:`OpenedItem.verify`, once the caller has the author's credential."""
    if envelope.epoch != keys.epoch:
        raise EnvelopeError(f"keys of epoch {keys.epoch} for an envelope of {envelope.epoch}")
    key, nonce = _key_nonce(suite, keys.secret(envelope.kind), envelope.item_id)
    aad = _aad(group_id, envelope.kind, envelope.epoch, envelope.item_id)
    try:
        plaintext = suite.aead.open(key, nonce, aad, envelope.ciphertext)
    except InvalidTagError as exc:
        raise EnvelopeDecryptError("the envelope does not open under its epoch's key") from exc
    r = Reader(plaintext)
    author, counter, encoded, signature = r.fixed(ID_SIZE), r.uint64(), r.opaque(), r.opaque()
    padding = r.fixed(r.remaining)
    if padding != bytes(len(padding)):  # one memcmp; padding can run to kilobytes
        raise DecodeError("the item's padding is not zeros")
    return OpenedItem(
        group_id=group_id,
        kind=envelope.kind,
        epoch=envelope.epoch,
        item_id=envelope.item_id,
        author=author,
        counter=counter,
        encoded_item=encoded,
        signature=signature,
    )


def parse_envelope(data: bytes) -> CaseEnvelope:
    return decode_exact(data, CaseEnvelope.decode)
