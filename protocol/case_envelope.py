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

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol, Self

from crypto.errors import InvalidSignatureError, InvalidTagError
from crypto.kdf import Expander
from crypto.labels import label_expander, sign_with_label, verify_with_label
from crypto.padding import padded_length
from crypto.random import RandomSource
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite
from crypto.tls import encode_varint, opaque
from protocol.case_items import CaseItem, HistoryRing, decode_item, encode_item
from protocol.codec import Reader, Struct, Writer, decode_exact, field_setters
from protocol.directory import ID_SIZE
from protocol.errors import DecodeError, ValidationError

ENVELOPE_VERSION = 1
HISTORY_LABEL = "casecircle note"
RING_LABEL = "casecircle ring"
ITEM_SIGNATURE_LABEL = "casecircle item"
ITEM_KEY_LABEL = "casecircle item key"
ITEM_NONCE_LABEL = "casecircle item nonce"
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
# The members and their encodings as plain module names: reading ``EnvelopeKind.CONTENT``
# goes through the enum's metaclass, which costs more than the comparison it feeds.
_CONTENT, _RING = EnvelopeKind.CONTENT, EnvelopeKind.RING
_KIND_BYTES = {kind: bytes((kind,)) for kind in EnvelopeKind}


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class EpochKeys:
    """The two exported secrets of one epoch; whoever holds them reads that epoch's items."""

    epoch: int
    history_key: bytes
    ring_key: bytes
    # Per (hash, Nk, Nn, kind): the derivations of item keys and nonces from the kind's
    # secret, with its HMAC pads and the KDFLabel heads hashed once (see _key_nonce). Key
    # material like the secrets, and kept no longer: filled on first use, gone with them.
    _expanders: dict[tuple[str, int, int, EnvelopeKind], tuple[Expander, Expander]] = field(
        init=False, default_factory=dict, compare=False
    )

    def __repr__(self) -> str:
        return f"EpochKeys(epoch={self.epoch}, <redacted>)"

    def secret(self, kind: EnvelopeKind) -> bytes:
        return self.history_key if kind == _CONTENT else self.ring_key


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
        ciphertext = self.ciphertext
        return b"".join((head, encode_varint(len(ciphertext)), ciphertext))

    @classmethod
    def decode(cls, r: Reader) -> Self:
        version = r.uint16()
        if version != ENVELOPE_VERSION:
            raise EnvelopeVersionError(f"unknown case envelope version {version}")
        kind, epoch, item_id = _HEAD_AFTER_VERSION.unpack(r.fixed(_HEAD_AFTER_VERSION.size))
        envelope_kind = _KINDS.get(kind)  # a dict lookup: far cheaper than EnvelopeKind(kind)
        if envelope_kind is None:
            raise DecodeError(f"unknown envelope kind {kind}")
        # What __post_init__ checks holds by the struct's layout: a 16-byte item id, a uint64.
        envelope = object.__new__(cls)
        set_kind, set_epoch, set_item_id, set_ciphertext = _ENVELOPE_FIELDS
        set_kind(envelope, envelope_kind)
        set_epoch(envelope, epoch)
        set_item_id(envelope, item_id)
        set_ciphertext(envelope, r.opaque())
        return envelope


# Each note sealed or read builds a CaseEnvelope, an OpenedItem and a VerifiedItem from
# fields already checked: their slots are set directly, at a third of the cost of the
# frozen dataclasses' __init__ (see protocol.codec.field_setters).
_ENVELOPE_FIELDS = field_setters(CaseEnvelope, "kind", "epoch", "item_id", "ciphertext")


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
        kind, epoch, encoded_item = self.kind, self.epoch, self.encoded_item
        tbs = _tbs(
            self.group_id, kind, epoch, self.item_id, self.author, self.counter, encoded_item
        )
        try:
            verify_with_label(suite, author_public_key, ITEM_SIGNATURE_LABEL, tbs, self.signature)
        except InvalidSignatureError as exc:
            raise ItemSignatureError("the item's signature does not verify") from exc
        item = decode_item(encoded_item)
        # item_type(item) == ItemType.HISTORY_RING, without the enum lookups
        expected = _RING if type(item) is HistoryRing else _CONTENT
        if expected != kind:
            raise EnvelopeKindError(f"a {type(item).__name__} in a {kind.name} envelope")
        if isinstance(item, HistoryRing) and item.keys and item.keys[-1][0] >= epoch:
            # A ring carries the keys of the epochs before its own (case_items.HistoryRing):
            # one naming its own or a later epoch can only plant a false key (ATTACKS A8).
            raise EnvelopeError(f"a ring sealed in epoch {self.epoch} holds a key of it or later")
        verified = object.__new__(VerifiedItem)
        set_epoch, set_item_id, set_author, set_counter, set_item = _VERIFIED_FIELDS
        set_epoch(verified, epoch)
        set_item_id(verified, self.item_id)
        set_author(verified, self.author)
        set_counter(verified, self.counter)
        set_item(verified, item)
        return verified


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedItem:
    epoch: int
    item_id: bytes
    author: bytes
    counter: int
    item: CaseItem


_OPENED_FIELDS = field_setters(
    OpenedItem,
    "group_id",
    "kind",
    "epoch",
    "item_id",
    "author",
    "counter",
    "encoded_item",
    "signature",
)
_VERIFIED_FIELDS = field_setters(VerifiedItem, "epoch", "item_id", "author", "counter", "item")


def _tbs(
    group_id: bytes,
    kind: EnvelopeKind,
    epoch: int,
    item_id: bytes,
    author: bytes,
    counter: int,
    encoded_item: bytes,
) -> bytes:
    return b"".join(
        (
            opaque(group_id),
            _KIND_BYTES.get(kind) or bytes((kind,)),  # (any other kind fails as before)
            epoch.to_bytes(8, "big"),
            item_id,
            author,
            counter.to_bytes(8, "big"),
            encode_varint(len(encoded_item)),
            encoded_item,
        )
    )


def _aad(group_id: bytes, kind: EnvelopeKind, epoch: int, item_id: bytes) -> bytes:
    return b"".join(
        (
            _VERSION,
            _KIND_BYTES.get(kind) or bytes((kind,)),
            opaque(group_id),
            epoch.to_bytes(8, "big"),
            item_id,
        )
    )


def _key_nonce(
    suite: CipherSuite, keys: EpochKeys, kind: EnvelopeKind, item_id: bytes
) -> tuple[bytes, bytes]:
    """``ExpandWithLabel(secret, "casecircle item key" / "casecircle item nonce", item_id,
    Nk / Nn)`` under the epoch's secret for ``kind``; every item of an epoch derives from
    the same secret, so its HMAC key blocks and the labels are hashed once per epoch."""
    aead = suite.aead
    slot = (suite.kdf.name, aead.key_size, aead.nonce_size, kind)
    expanders = keys._expanders.get(slot)
    if expanders is None:
        secret = keys.secret(kind)
        expanders = (
            label_expander(suite, secret, ITEM_KEY_LABEL, aead.key_size),
            label_expander(suite, secret, ITEM_NONCE_LABEL, aead.nonce_size),
        )
        keys._expanders[slot] = expanders
    context = opaque(item_id)
    return expanders[0].expand(context), expanders[1].expand(context)


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
    kind = _RING if type(item) is HistoryRing else _CONTENT
    item_id = rng.random_bytes(ID_SIZE)
    if len(item_id) != ID_SIZE:
        raise DecodeError(f"an item id is {ID_SIZE} bytes")  # as CaseEnvelope refuses it
    # The layouts of _tbs and _aad, built from shared pieces, each encoded once (sealing is
    # on every note's path): SealedItem up to its signature is also the end of ItemTBS.
    group, kind_byte, epoch = opaque(group_id), _KIND_BYTES[kind], keys.epoch.to_bytes(8, "big")
    encoded = encode_item(item)
    signed = b"".join((author, counter.to_bytes(8, "big"), encode_varint(len(encoded)), encoded))
    tbs = b"".join((group, kind_byte, epoch, item_id, signed))
    signature = opaque(sign_with_label(suite, signing_key, ITEM_SIGNATURE_LABEL, tbs))
    size = len(signed) + len(signature)
    plaintext = b"".join((signed, signature, bytes(padded_length(size) - size)))
    key, nonce = _key_nonce(suite, keys, kind, item_id)
    aad = b"".join((_VERSION, kind_byte, group, epoch, item_id))
    ciphertext = suite.aead.seal(key, nonce, aad, plaintext)
    # CaseEnvelope.__post_init__'s checks: the item id's length above; the epoch is a uint64,
    # or its to_bytes above has failed.
    envelope = object.__new__(CaseEnvelope)
    set_kind, set_epoch, set_item_id, set_ciphertext = _ENVELOPE_FIELDS
    set_kind(envelope, kind)
    set_epoch(envelope, keys.epoch)
    set_item_id(envelope, item_id)
    set_ciphertext(envelope, ciphertext)
    return envelope


def open_envelope(
    suite: CipherSuite, group_id: bytes, keys: EpochKeys, envelope: CaseEnvelope
) -> OpenedItem:
    """Decrypt an envelope of ``keys.epoch``; the author's signature is checked by
    :meth:`OpenedItem.verify`, once the caller has the author's credential."""
    kind, epoch, item_id = envelope.kind, envelope.epoch, envelope.item_id
    if epoch != keys.epoch:
        raise EnvelopeError(f"keys of epoch {keys.epoch} for an envelope of {epoch}")
    key, nonce = _key_nonce(suite, keys, kind, item_id)
    aad = _aad(group_id, kind, epoch, item_id)
    try:
        plaintext = suite.aead.open(key, nonce, aad, envelope.ciphertext)
    except InvalidTagError as exc:
        raise EnvelopeDecryptError("the envelope does not open under its epoch's key") from exc
    r = Reader(plaintext)
    author, counter, encoded, signature = r.fixed(ID_SIZE), r.uint64(), r.opaque(), r.opaque()
    padding = r.fixed(r.remaining)
    if padding != bytes(len(padding)):  # one memcmp; padding can run to kilobytes
        raise DecodeError("the item's padding is not zeros")
    opened = object.__new__(OpenedItem)
    set_group, set_kind, set_epoch, set_item_id, set_author, set_counter, set_item, set_sig = (
        _OPENED_FIELDS
    )
    set_group(opened, group_id)
    set_kind(opened, kind)
    set_epoch(opened, epoch)
    set_item_id(opened, item_id)
    set_author(opened, author)
    set_counter(opened, counter)
    set_item(opened, encoded)
    set_sig(opened, signature)
    return opened


def parse_envelope(data: bytes) -> CaseEnvelope:
    return decode_exact(data, CaseEnvelope.decode)
