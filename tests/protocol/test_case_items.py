"""Case items: the plaintext structures sealed in case envelopes (DESIGN §4; ATTACKS C6, C8,
E6, E11).

Each structure round-trips and has the byte layout of the module's presentation-language
description; decoding is strict (truncation, trailing bytes, unknown enum values, non-UTF-8
text); every field rule has a value just inside and just outside it; and any bytes at all,
random or mutated from valid encodings, make ``decode_item`` either return a value that
re-encodes to exactly those bytes or raise one of the typed errors — never anything else.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto.attachments import (
    REF_SIZE,
    AttachmentCommitmentError,
    AttachmentError,
    AttachmentFormatError,
    AttachmentRef,
    seal_attachment,
)
from crypto.errors import CasecircleError
from crypto.tls import opaque
from protocol.case_items import (
    MAX_ATTACHMENTS,
    MAX_FILE_NAME_BYTES,
    MAX_MEDIA_TYPE_BYTES,
    MAX_NOTE_BYTES,
    MAX_PSEUDONYM_BYTES,
    MAX_RING_ENTRIES,
    MAX_SECRET_BYTES,
    MAX_TITLE_BYTES,
    Attachment,
    CaseInfo,
    CaseItem,
    CaseItemError,
    HistoryPolicy,
    HistoryRing,
    ItemType,
    Note,
    decode_item,
    encode_item,
    item_type,
)
from protocol.codec import Struct, Writer
from protocol.directory import DirectoryFieldError, UnsafeTextError
from protocol.errors import DecodeError, ValidationError
from tests.helpers import DeterministicRandom, mutate

NOW = 1_750_000_000


def ref(seed: str = "attachment") -> AttachmentRef:
    return seal_attachment(f"contents of {seed}".encode(), DeterministicRandom(seed))[1]


REF = ref()


def attachment(**changes: Any) -> Attachment:
    base = Attachment(
        name="Zpráva o šetření.pdf",
        media_type="application/pdf",
        blob_id=bytes(range(16)),
        ref=REF,
    )
    return replace(base, **changes)


def case_info(**changes: Any) -> CaseInfo:
    base = CaseInfo(title="Ochrana — Novák", pseudonym="Případ 17/2025", history=HistoryPolicy.FULL)
    return replace(base, **changes)


def note(**changes: Any) -> Note:
    base = Note(
        text="Schůzka s OSPOD proběhla.\nDalší kroky: policie.",
        attachments=(attachment(),),
        written_at=NOW,
    )
    return replace(base, **changes)


def ring(**changes: Any) -> HistoryRing:
    base = HistoryRing(keys=((0, b"\x10" * 32), (1, b"\x11" * 32), (5, b"\x15" * 32)))
    return replace(base, **changes)


def samples() -> list[CaseItem]:
    return [
        case_info(),
        case_info(history=HistoryPolicy.FROM_JOIN),
        note(),
        note(text="", attachments=()),
        note(attachments=tuple(attachment(blob_id=bytes([i]) * 16) for i in range(3))),
        ring(),
        HistoryRing(keys=()),
    ]


# --- round trips and layout ---------------------------------------------------------------


@pytest.mark.parametrize("item", samples(), ids=lambda item: type(item).__name__)
def test_every_item_round_trips(item: CaseItem) -> None:
    encoded = encode_item(item)
    assert encoded[0] == item_type(item)
    assert decode_item(encoded) == item
    assert type(item).from_bytes(encoded[1:]) == item
    assert encoded[1:] == item.to_bytes()


def test_item_type_tags() -> None:
    assert item_type(case_info()) is ItemType.CASE_INFO
    assert item_type(note()) is ItemType.NOTE
    assert item_type(ring()) is ItemType.HISTORY_RING
    assert [int(t) for t in ItemType] == [1, 2, 3]
    assert [int(p) for p in HistoryPolicy] == [1, 2]


def test_case_info_layout() -> None:
    value = CaseInfo(title="Tí", pseudonym="P", history=HistoryPolicy.FROM_JOIN)
    assert encode_item(value) == b"\x01" + opaque("Tí".encode()) + opaque(b"P") + b"\x02"


def test_note_and_attachment_layout() -> None:
    value = note(text="hi", attachments=(attachment(name="a.txt", media_type="text/plain"),))
    encoded_attachment = opaque(b"a.txt") + opaque(b"text/plain") + bytes(range(16))
    encoded_attachment += REF.to_bytes()
    assert len(REF.to_bytes()) == REF_SIZE == 109
    expected = b"\x02" + opaque(b"hi") + opaque(encoded_attachment) + NOW.to_bytes(8, "big")
    assert encode_item(value) == expected


def test_history_ring_layout() -> None:
    value = HistoryRing(keys=((3, b"k"), (2**64 - 1, b"KK")))
    entries = (3).to_bytes(8, "big") + opaque(b"k") + b"\xff" * 8 + opaque(b"KK")
    assert encode_item(value) == b"\x03" + opaque(entries)


def test_attachment_refs_survive_the_round_trip_with_their_key() -> None:
    decoded = decode_item(encode_item(note()))
    assert isinstance(decoded, Note)
    assert decoded.attachments[0].ref.key.to_bytes() == REF.key.to_bytes()
    assert decoded.attachments[0].ref.to_bytes() == REF.to_bytes()


# --- strict decoding ----------------------------------------------------------------------


@pytest.mark.parametrize("item", samples(), ids=lambda item: type(item).__name__)
def test_truncated_and_extended_items_do_not_decode(item: CaseItem) -> None:
    encoded = encode_item(item)
    for cut in range(len(encoded)):
        with pytest.raises(DecodeError) as caught:
            decode_item(encoded[:cut])
        assert caught.value.code == "decode"
    for extra in (b"\x00", b"\x01", encoded):
        with pytest.raises(DecodeError):
            decode_item(encoded + extra)


@pytest.mark.parametrize("tag", [0, 4, 255])
def test_unknown_item_types_do_not_decode(tag: int) -> None:
    body = encode_item(case_info())[1:]
    with pytest.raises(DecodeError, match="unknown case item type"):
        decode_item(bytes([tag]) + body)


def test_an_item_tagged_as_another_type_does_not_decode() -> None:
    """A note's body read as case info (or the reverse) is refused, not misread."""
    info, text = encode_item(case_info()), encode_item(note())
    with pytest.raises(CasecircleError):
        decode_item(b"\x02" + info[1:])
    with pytest.raises(CasecircleError):
        decode_item(b"\x01" + text[1:])


@pytest.mark.parametrize("policy", [0, 3, 255])
def test_unknown_history_policies_do_not_decode(policy: int) -> None:
    encoded = encode_item(case_info())
    assert encoded[-1] == HistoryPolicy.FULL
    with pytest.raises(DecodeError, match="history policy"):
        decode_item(encoded[:-1] + bytes([policy]))


@pytest.mark.parametrize(
    "raw",
    [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf"],
    ids=["invalid byte", "truncated sequence", "encoded surrogate", "overlong"],
)
def test_text_that_is_not_utf8_does_not_decode(raw: bytes) -> None:
    for encoded in (
        b"\x01" + opaque(raw) + opaque(b"P") + b"\x01",
        b"\x01" + opaque(b"T") + opaque(raw) + b"\x01",
        b"\x02" + opaque(raw) + opaque(b"") + bytes(8),
    ):
        with pytest.raises(DecodeError, match="UTF-8"):
            decode_item(encoded)


def test_non_minimal_lengths_do_not_decode() -> None:
    with pytest.raises(DecodeError, match="non-minimal"):
        decode_item(b"\x01" + b"\x40\x01T" + opaque(b"P") + b"\x01")


def test_decoded_items_obey_the_field_rules() -> None:
    """Decoding builds the value, so each rule holds for received items too (C8, C6)."""
    with pytest.raises(UnsafeTextError) as caught:
        decode_item(b"\x01" + opaque("Novák\u202egpj.exe".encode()) + opaque(b"P") + b"\x01")
    assert caught.value.code == "unsafe_text"
    with pytest.raises(DirectoryFieldError):
        decode_item(b"\x01" + opaque(b"") + opaque(b"P") + b"\x01")

    one = attachment().to_bytes()
    too_many = b"\x02" + opaque(b"") + opaque(one * (MAX_ATTACHMENTS + 1)) + bytes(8)
    with pytest.raises(CaseItemError) as many:
        decode_item(too_many)
    assert many.value.code == "case_item"
    enough = b"\x02" + opaque(b"") + opaque(one * MAX_ATTACHMENTS) + bytes(8)
    assert encode_item(decode_item(enough)) == enough

    def entry(epoch: int) -> bytes:
        return epoch.to_bytes(8, "big") + opaque(b"k")

    for epochs in ((2, 1), (1, 1)):
        with pytest.raises(CaseItemError, match="ascending"):
            decode_item(b"\x03" + opaque(b"".join(entry(e) for e in epochs)))
    with pytest.raises(CaseItemError):
        decode_item(b"\x03" + opaque((1).to_bytes(8, "big") + opaque(b"")))


def test_decoded_attachment_refs_are_checked() -> None:
    """A reference whose parts disagree is refused by the attachment layer's typed error."""
    good = attachment().to_bytes()
    ref_at = len(good) - REF_SIZE
    bad_version = good[:ref_at] + b"\x02" + good[ref_at + 1 :]
    with pytest.raises(AttachmentFormatError) as caught:
        Attachment.from_bytes(bad_version)
    assert caught.value.code == "attachment_format"
    other_key = ref("another file").key.to_bytes()
    wrong_key = good[: ref_at + 1] + other_key + good[ref_at + 33 :]
    with pytest.raises(AttachmentCommitmentError) as mismatch:
        Attachment.from_bytes(wrong_key)
    assert mismatch.value.code == "attachment_commitment"
    non_ascii = opaque(b"a") + opaque("téxt/plain".encode()) + good[-(16 + REF_SIZE) :]
    with pytest.raises(CaseItemError):
        Attachment.from_bytes(non_ascii)


# --- display text: title, pseudonym, file names (ATTACKS C8, E11) -------------------------

UNSAFE_TEXT = {
    "right-to-left override": "Novák\u202efdp.exe",
    "right-to-left isolate": "Novák\u2067x\u2069",
    "right-to-left mark": "Novák\u200f",
    "zero width space": "No\u200bvák",
    "line feed": "Novák\nPolicie",
    "nul": "Novák\x00",
    "escape": "\x1b[31mNovák",
    "no-break space": "Jana\u00a0Nováková",
    "leading space": " Novák",
    "trailing space": "Novák ",
    "double space": "Jana  Nováková",
    "not NFC": unicodedata.normalize("NFD", "Nováková"),
    "combining stack": "x" + "\u0301" * 5,
    "private use": "Novák\ue000",
    "lone surrogate": "Novák\ud800",
}

DISPLAY_FIELDS: dict[str, tuple[Callable[[str], object], int]] = {
    "title": (lambda value: case_info(title=value), MAX_TITLE_BYTES),
    "pseudonym": (lambda value: case_info(pseudonym=value), MAX_PSEUDONYM_BYTES),
    "file name": (lambda value: attachment(name=value), MAX_FILE_NAME_BYTES),
}


@pytest.mark.parametrize("field", DISPLAY_FIELDS)
@pytest.mark.parametrize("text", UNSAFE_TEXT.values(), ids=list(UNSAFE_TEXT))
def test_unsafe_display_text_is_refused(field: str, text: str) -> None:
    build, _ = DISPLAY_FIELDS[field]
    with pytest.raises(UnsafeTextError) as caught:
        build(text)
    assert caught.value.code == "unsafe_text"


@pytest.mark.parametrize("field", DISPLAY_FIELDS)
def test_display_text_length_is_counted_in_utf8_bytes(field: str) -> None:
    build, limit = DISPLAY_FIELDS[field]
    longest = "č" * (limit // 2) + "a" * (limit % 2)
    assert len(longest.encode()) == limit
    build(longest)
    with pytest.raises(DirectoryFieldError) as caught:
        build(longest + "a")
    assert caught.value.code == "directory_field"
    assert not isinstance(caught.value, UnsafeTextError)
    with pytest.raises(DirectoryFieldError, match="empty"):
        build("")


@pytest.mark.parametrize("field", DISPLAY_FIELDS)
@pytest.mark.parametrize("text", ["Jana Nováková", "تقرير الشرطة", "Ñandú 日本語 ʼ", "A"])
def test_ordinary_names_in_any_script_are_accepted(field: str, text: str) -> None:
    build, _ = DISPLAY_FIELDS[field]
    value = build(text)
    assert isinstance(value, CaseInfo | Attachment)
    assert type(value).from_bytes(value.to_bytes()) == value


# --- notes and attachments ----------------------------------------------------------------


def test_note_text_is_free_text_bounded_in_bytes() -> None:
    """Line breaks, tabs and any script are allowed; only the size and encodability count."""
    for text in ("", "řádek 1\n\třádek 2\r\n", "مرحبا\nשלום", "x" * MAX_NOTE_BYTES):
        assert decode_item(encode_item(note(text=text))) == note(text=text)
    longest = "€" * (MAX_NOTE_BYTES // 3) + "x" * (MAX_NOTE_BYTES % 3)
    assert len(longest.encode()) == MAX_NOTE_BYTES
    note(text=longest)
    with pytest.raises(CaseItemError) as caught:
        note(text=longest + "x")
    assert caught.value.code == "case_item"
    with pytest.raises(CaseItemError, match="surrogate"):
        note(text="a\udc80b")


def test_at_most_sixteen_attachments() -> None:
    files = tuple(attachment(blob_id=bytes([i]) * 16) for i in range(MAX_ATTACHMENTS + 1))
    full = note(attachments=files[:MAX_ATTACHMENTS])
    assert decode_item(encode_item(full)) == full
    with pytest.raises(CaseItemError, match="attachments") as caught:
        note(attachments=files)
    assert caught.value.code == "case_item"


def test_written_at_is_a_uint64() -> None:
    assert note(written_at=2**64 - 1).to_bytes()[-8:] == b"\xff" * 8
    for bad in (-1, 2**64):
        with pytest.raises(CaseItemError):
            note(written_at=bad)


def test_media_type_is_short_ascii() -> None:
    attachment(media_type="")
    attachment(media_type="a" * MAX_MEDIA_TYPE_BYTES)
    for bad in ("a" * (MAX_MEDIA_TYPE_BYTES + 1), "téxt/plain", "application/pdf\u202e"):
        with pytest.raises(CaseItemError, match="media type") as caught:
            attachment(media_type=bad)
        assert caught.value.code == "case_item"


@pytest.mark.parametrize("size", [0, 15, 17, 32])
def test_blob_ids_are_sixteen_bytes(size: int) -> None:
    with pytest.raises(CaseItemError, match="blob id"):
        attachment(blob_id=bytes(size))


def test_case_item_errors_are_validation_errors() -> None:
    assert issubclass(CaseItemError, ValidationError)
    assert CaseItemError.code == "case_item"


# --- history rings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "epochs",
    [(1, 1), (2, 1), (0, 5, 3), (0, 1, 1, 2)],
    ids=["repeated", "descending", "unsorted", "repeated inside"],
)
def test_ring_epochs_are_unique_and_ascending(epochs: tuple[int, ...]) -> None:
    with pytest.raises(CaseItemError, match="unique and ascending") as caught:
        HistoryRing(keys=tuple((epoch, b"k" * 32) for epoch in epochs))
    assert caught.value.code == "case_item"


def test_ring_entries_are_bounded() -> None:
    HistoryRing(keys=((0, b"k"), (2**64 - 1, b"k" * MAX_SECRET_BYTES)))
    for bad in ((-1, b"k"), (2**64, b"k"), (1, b""), (1, b"k" * (MAX_SECRET_BYTES + 1))):
        with pytest.raises(CaseItemError, match="bad ring entry"):
            HistoryRing(keys=(bad,))


def test_a_ring_holds_at_most_4096_epochs() -> None:
    full = HistoryRing(keys=tuple((epoch, b"k") for epoch in range(MAX_RING_ENTRIES)))
    assert decode_item(encode_item(full)) == full
    with pytest.raises(CaseItemError, match="at most") as caught:
        HistoryRing(keys=tuple((epoch, b"k") for epoch in range(MAX_RING_ENTRIES + 1)))
    assert caught.value.code == "case_item"


def test_repr_of_a_ring_shows_epochs_but_no_key() -> None:
    keys = ((3, bytes(range(100, 132))), (4, b"\xab" * 32))
    value = HistoryRing(keys=keys)
    for shown in (repr(value), str(value), repr([value]), f"{value}"):
        assert "[3, 4]" in shown
        for _, key in keys:
            assert key.hex() not in shown
            assert repr(key) not in shown
            assert repr(key)[2:-1] not in shown


def test_repr_of_a_note_shows_no_attachment_key() -> None:
    shown = repr(note())
    key = REF.key.to_bytes()
    assert key.hex() not in shown and repr(key)[2:-1] not in shown


# --- properties ---------------------------------------------------------------------------

FUZZ = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
SEEDS = st.integers(min_value=0, max_value=2**64 - 1)
DECODE_FAILURES = (DecodeError, CaseItemError, DirectoryFieldError, AttachmentError)
"""Everything decode_item may raise: malformed bytes, a broken field rule of this module or
of the directory's text rules, or an attachment reference whose parts disagree."""


def check_decoding(data: bytes) -> None:
    try:
        value = decode_item(data)
    except DECODE_FAILURES as exc:
        assert isinstance(exc, CasecircleError)
        return
    assert encode_item(value) == data, "an accepted input must be canonical"


SEED_ENCODINGS = tuple(encode_item(item) for item in samples())


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_only_fail_with_typed_errors(data: bytes) -> None:
    check_decoding(data)


@FUZZ
@given(tag=st.sampled_from([1, 2, 3]), body=st.binary(max_size=300))
def test_random_bodies_of_each_type_only_fail_with_typed_errors(tag: int, body: bytes) -> None:
    check_decoding(bytes([tag]) + body)


@FUZZ
@given(seed=SEEDS)
def test_mutated_items_only_fail_with_typed_errors(seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(4):
        check_decoding(mutate(rnd.choice(SEED_ENCODINGS), rnd))


DISPLAY_TEXT = st.text(
    alphabet=st.characters(categories=["Lu", "Ll", "Lo", "Nd", "Pd", "Po"]),
    min_size=1,
    max_size=24,
).filter(lambda s: unicodedata.is_normalized("NFC", s) and len(s.encode()) <= MAX_PSEUDONYM_BYTES)
FREE_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200)
UINT64 = st.integers(0, 2**64 - 1)


@st.composite
def items(draw: Callable[..., Any]) -> CaseItem:
    kind = draw(st.sampled_from(ItemType))
    if kind == ItemType.CASE_INFO:
        return CaseInfo(
            title=draw(DISPLAY_TEXT),
            pseudonym=draw(DISPLAY_TEXT),
            history=draw(st.sampled_from(HistoryPolicy)),
        )
    if kind == ItemType.NOTE:
        names = draw(st.lists(DISPLAY_TEXT, max_size=3))
        files = tuple(
            attachment(name=name, blob_id=draw(st.binary(min_size=16, max_size=16)))
            for name in names
        )
        return Note(text=draw(FREE_TEXT), attachments=files, written_at=draw(UINT64))
    epochs = sorted(draw(st.sets(UINT64, max_size=8)))
    keys = tuple((e, draw(st.binary(min_size=1, max_size=MAX_SECRET_BYTES))) for e in epochs)
    return HistoryRing(keys=keys)


@settings(max_examples=100, deadline=None, database=None)
@given(items())
def test_any_valid_item_round_trips(item: CaseItem) -> None:
    encoded = encode_item(item)
    assert decode_item(encoded) == item
    assert encoded[0] == item_type(item)


def test_decoded_note_is_checked_as_a_built_one() -> None:
    """Note.decode skips re-encoding the text; what the constructor refuses, it refuses."""
    longest = "€" * (MAX_NOTE_BYTES // 3) + "x" * (MAX_NOTE_BYTES % 3)
    value = note(text=longest, attachments=(attachment(),), written_at=2**64 - 1)
    decoded = decode_item(encode_item(value))
    assert decoded == value and type(decoded) is Note
    assert (decoded.text, decoded.attachments, decoded.written_at) == (
        value.text,
        value.attachments,
        value.written_at,
    )
    assert encode_item(decoded) == encode_item(value) == b"\x02" + value.to_bytes()
    # One byte over the limit, and seventeen attachments: refused as the constructor does.
    too_long = b"\x02" + opaque((longest + "x").encode()) + b"\x00" + bytes(8)
    with pytest.raises(CaseItemError, match="longer") as caught:
        decode_item(too_long)
    assert caught.value.code == "case_item"
    files = tuple(attachment(blob_id=bytes([i]) * 16) for i in range(MAX_ATTACHMENTS + 1))
    w = Writer()
    w.vector(files, Struct.write)
    many = b"\x02\x00" + w.getvalue() + bytes(8)
    with pytest.raises(CaseItemError, match="attachments"):
        decode_item(many)
