"""DESIGN §4: what a case holds, as plaintext structures — the case's description, its notes
with their attachments, and the links of its history key ring.

These are only ever seen inside a sealed :mod:`protocol.case_envelope`; the relay holds
them as ciphertext. TLS presentation language (RFC 9420 §2.1), decoded strictly::

    enum { full(1), from_join(2), (255) } HistoryPolicy;

    struct {
        opaque title<V>;                 /* UTF-8, 1..256 bytes */
        opaque pseudonym<V>;             /* UTF-8, 1..128 bytes: how the case is named */
        HistoryPolicy history;
    } CaseInfo;

    struct {
        opaque name<V>;                  /* the sender's file name, UTF-8, 1..255 bytes */
        opaque media_type<V>;            /* e.g. application/pdf, 0..127 bytes */
        opaque blob_id[16];              /* where the relay keeps the sealed file */
        opaque ref[109];                 /* crypto.attachments.AttachmentRef: key, commitment,
                                            ciphertext hash, chunk count, padded size */
    } Attachment;

    struct {
        opaque text<V>;                  /* UTF-8, at most 64 KiB */
        Attachment attachments<V>;       /* at most 16 */
        uint64 written_at;               /* the author's clock */
    } Note;

    struct { uint64 epoch; opaque history_key<V>; } RingEntry;

    struct {
        RingEntry entries<V>;            /* every epoch's history key before the one the
                                            ring is sealed in, ascending, at most 4096 */
    } HistoryRing;

    enum { case_info(1), note(2), history_ring(3), (255) } ItemType;

    struct {
        ItemType item_type;
        select (CaseItem.item_type) {
            case case_info: CaseInfo;
            case note:      Note;
            case history_ring: HistoryRing;
        };
    } CaseItem;

Names are display text: they pass the directory's safe-text rules (no bidi or control
characters, bounded combining marks; ATTACKS C8, E11). Attachment names are sanitised again
by the client before they touch the disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Self

from crypto.attachments import REF_SIZE, AttachmentRef
from crypto.tls import encode_varint
from protocol.codec import Reader, Struct, Writer, field_setters
from protocol.directory import ID_SIZE, check_display_text
from protocol.errors import DecodeError, ValidationError

MAX_TITLE_BYTES = 256
MAX_PSEUDONYM_BYTES = 128
MAX_NOTE_BYTES = 64 * 1024
MAX_ATTACHMENTS = 16
MAX_FILE_NAME_BYTES = 255
MAX_MEDIA_TYPE_BYTES = 127
MAX_SECRET_BYTES = 64
MAX_RING_ENTRIES = 4096


class CaseItemError(ValidationError):
    """A case item breaks a field rule."""

    code = "case_item"


class HistoryPolicy(IntEnum):
    FULL = 1
    FROM_JOIN = 2


class ItemType(IntEnum):
    CASE_INFO = 1
    NOTE = 2
    HISTORY_RING = 3


def _text(r: Reader, name: str) -> str:
    try:
        return r.opaque().decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError(f"{name} is not UTF-8") from None


def _check_bounded(value: str, name: str, max_bytes: int, *, display: bool = True) -> None:
    if display:
        check_display_text(value, name, max_bytes)
        return
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise CaseItemError(f"{name} holds a lone surrogate") from None
    if size > max_bytes:
        raise CaseItemError(f"{name} is longer than {max_bytes} bytes")


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseInfo(Struct):
    title: str
    pseudonym: str
    history: HistoryPolicy

    def __post_init__(self) -> None:
        _check_bounded(self.title, "title", MAX_TITLE_BYTES)
        _check_bounded(self.pseudonym, "pseudonym", MAX_PSEUDONYM_BYTES)

    def encode(self, w: Writer) -> None:
        w.opaque(self.title.encode("utf-8"))
        w.opaque(self.pseudonym.encode("utf-8"))
        w.uint8(self.history)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        title, pseudonym, history = _text(r, "title"), _text(r, "pseudonym"), r.uint8()
        try:
            policy = HistoryPolicy(history)
        except ValueError:
            raise DecodeError(f"unknown history policy {history}") from None
        return cls(title=title, pseudonym=pseudonym, history=policy)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment(Struct):
    name: str
    media_type: str
    blob_id: bytes
    ref: AttachmentRef

    def __post_init__(self) -> None:
        _check_bounded(self.name, "file name", MAX_FILE_NAME_BYTES)
        if not self.media_type.isascii() or len(self.media_type) > MAX_MEDIA_TYPE_BYTES:
            raise CaseItemError("media type is short ASCII")
        if len(self.blob_id) != ID_SIZE:
            raise CaseItemError(f"a blob id is {ID_SIZE} bytes")

    def encode(self, w: Writer) -> None:
        w.opaque(self.name.encode("utf-8"))
        w.opaque(self.media_type.encode("ascii"))
        w.fixed(self.blob_id)
        w.fixed(self.ref.to_bytes())

    @classmethod
    def decode(cls, r: Reader) -> Self:
        name, media_type = _text(r, "file name"), _text(r, "media type")
        blob_id, ref = r.fixed(ID_SIZE), r.fixed(REF_SIZE)
        return cls(
            name=name, media_type=media_type, blob_id=blob_id, ref=AttachmentRef.from_bytes(ref)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Note(Struct):
    text: str
    attachments: tuple[Attachment, ...] = ()
    written_at: int = 0

    def __post_init__(self) -> None:
        # Note text is free text (line breaks, any script); it is shown as plain text only.
        _check_bounded(self.text, "note text", MAX_NOTE_BYTES, display=False)
        self._check_fields()

    def _check_fields(self) -> None:
        """The checks of every field but the text's."""
        if len(self.attachments) > MAX_ATTACHMENTS:
            raise CaseItemError(f"a note has at most {MAX_ATTACHMENTS} attachments")
        if not 0 <= self.written_at < 2**64:
            raise CaseItemError("written_at out of range")

    def encode(self, w: Writer) -> None:
        w.fixed(self._encoded())

    def _encoded(self) -> bytes:
        """``opaque text<V> || Attachment attachments<V> || uint64 written_at``, joined in
        one step: every note sealed is encoded (the fields were checked when it was built)."""
        text = self.text.encode("utf-8")
        if self.attachments:
            w = Writer()
            w.vector(self.attachments, Struct.write)
            attachments = w.getvalue()
        else:
            attachments = b"\x00"  # the empty vector
        return b"".join(
            (encode_varint(len(text)), text, attachments, self.written_at.to_bytes(8, "big"))
        )

    @classmethod
    def decode(cls, r: Reader) -> Self:
        raw = r.opaque()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("note text is not UTF-8") from None
        attachments, written_at = tuple(r.vector(Attachment.decode)), r.uint64()
        # What __post_init__ checks of the text, known here without encoding it once more
        # (every note read pays for this): a text decoded from UTF-8 holds no lone
        # surrogate, and its UTF-8 is ``raw``. Every other field is checked as
        # __post_init__ does (see protocol.codec.field_setters).
        if len(raw) > MAX_NOTE_BYTES:
            raise CaseItemError(f"note text is longer than {MAX_NOTE_BYTES} bytes")
        note = object.__new__(cls)
        set_text, set_attachments, set_written_at = _NOTE_FIELDS
        set_text(note, text)
        set_attachments(note, attachments)
        set_written_at(note, written_at)
        note._check_fields()
        return note


_NOTE_FIELDS = field_setters(Note, "text", "attachments", "written_at")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class HistoryRing(Struct):
    """The history keys of earlier epochs, for members who join later (policy ``full``).

    A member who adds devices to a ``full`` case sends one right after its commit, sealed
    under the new epoch's ring key, so the new devices read the whole case without anyone
    else being online; a removed device never receives a ring of a later epoch.
    """

    keys: tuple[tuple[int, bytes], ...]

    def __post_init__(self) -> None:
        if len(self.keys) > MAX_RING_ENTRIES:
            raise CaseItemError(f"a ring holds at most {MAX_RING_ENTRIES} epochs")
        epochs = [epoch for epoch, _ in self.keys]
        if epochs != sorted(set(epochs)):
            raise CaseItemError("ring epochs must be unique and ascending")
        for epoch, key in self.keys:
            if not 0 <= epoch < 2**64 or not 1 <= len(key) <= MAX_SECRET_BYTES:
                raise CaseItemError("bad ring entry")

    def __repr__(self) -> str:
        return f"HistoryRing(epochs={[epoch for epoch, _ in self.keys]}, <redacted>)"

    def encode(self, w: Writer) -> None:
        def entry(w: Writer, value: tuple[int, bytes]) -> None:
            w.uint64(value[0])
            w.opaque(value[1])

        w.vector(self.keys, entry)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(keys=tuple(r.vector(lambda r: (r.uint64(), r.opaque()))))


CaseItem = CaseInfo | Note | HistoryRing

_TYPES: dict[type[Struct], ItemType] = {
    CaseInfo: ItemType.CASE_INFO,
    Note: ItemType.NOTE,
    HistoryRing: ItemType.HISTORY_RING,
}
_DECODERS: dict[int, Callable[[Reader], CaseItem]] = {
    ItemType.CASE_INFO: CaseInfo.decode,
    ItemType.NOTE: Note.decode,
    ItemType.HISTORY_RING: HistoryRing.decode,
}


_NOTE_TYPE = bytes((ItemType.NOTE,))


def item_type(item: CaseItem) -> ItemType:
    return _TYPES[type(item)]


def encode_item(item: CaseItem) -> bytes:
    if type(item) is Note:  # most items are notes: no Writer needed
        return _NOTE_TYPE + item._encoded()
    w = Writer()
    w.uint8(item_type(item))
    item.encode(w)
    return w.getvalue()


def decode_item(data: bytes) -> CaseItem:
    r = Reader(data)
    kind = r.uint8()
    decoder = _DECODERS.get(kind)  # ItemType is an IntEnum: its members are these int keys
    if decoder is None:
        raise DecodeError(f"unknown case item type {kind}")
    item = decoder(r)
    r.finish()
    return item
