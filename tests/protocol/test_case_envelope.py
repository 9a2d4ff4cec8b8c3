"""Case envelopes: items sealed under an epoch's exported keys, signed inside by their author
(DESIGN §4; ATTACKS A8, A9, B6, B7, C6, D3, E3, E6).

The spec in the module's docstring is implemented a second time here, by hand (``hand_seal``,
``hand_open``, ``signed_body``): the module's envelopes open with it, and it builds what an
honest sealer never would — an item moved into another slot, case, epoch or kind with its
signature intact, non-zero padding, a ring in a content envelope — so that each refusal is
shown firing on its own, past the AEAD, not masked by a decryption failure.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto.attachments import AttachmentError
from crypto.errors import CasecircleError, InvalidKeyError
from crypto.labels import expand_with_label, sign_with_label, verify_with_label
from crypto.padding import padded_length, padme
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite, cipher_suite
from crypto.tls import encode_varint, opaque
from protocol.case_envelope import (
    ENVELOPE_VERSION,
    EXPORTED_KEY_SIZE,
    HISTORY_LABEL,
    ITEM_SIGNATURE_LABEL,
    RING_LABEL,
    CaseEnvelope,
    EnvelopeDecryptError,
    EnvelopeError,
    EnvelopeKind,
    EnvelopeKindError,
    EnvelopeVersionError,
    EpochKeys,
    ItemSignatureError,
    OpenedItem,
    export_epoch_keys,
    open_envelope,
    parse_envelope,
    seal_item,
)
from protocol.case_items import (
    CaseInfo,
    CaseItem,
    CaseItemError,
    HistoryPolicy,
    HistoryRing,
    Note,
    encode_item,
)
from protocol.codec import Reader
from protocol.directory import DirectoryFieldError
from protocol.errors import DecodeError, ValidationError
from tests.helpers import DeterministicRandom, mutate
from tests.protocol.mls.group_devices import Device

SUITES = (1, 2, 3)
GROUP = b"case group id: domestic violence 17/2025"
OTHER_GROUP = b"case group id: another case"
ALICE = bytes(range(16))
MALLORY = bytes(range(16, 32))
EPOCH = 7


def signing_key(suite: CipherSuite, name: str) -> SigningKey:
    return suite.signature.generate(DeterministicRandom(f"{name} suite {suite.suite_id}"))


def epoch_keys(epoch: int = EPOCH, seed: str = "case") -> EpochKeys:
    rng = DeterministicRandom(f"epoch {epoch} of {seed}")
    return EpochKeys(
        epoch=epoch,
        history_key=rng.random_bytes(EXPORTED_KEY_SIZE),
        ring_key=rng.random_bytes(EXPORTED_KEY_SIZE),
    )


KEYS = epoch_keys()
INFO = CaseInfo(title="Ochrana — Novák", pseudonym="Případ 17", history=HistoryPolicy.FULL)
NOTE = Note(text="Schůzka proběhla; další kroky zítra.", written_at=1_750_000_000)
RING = HistoryRing(keys=((0, b"\x00" * 32), (3, b"\x03" * 32), (6, b"\x06" * 32)))
ITEMS: dict[str, CaseItem] = {"case info": INFO, "note": NOTE, "ring": RING}


def seal(
    item: CaseItem,
    suite_id: int = 1,
    *,
    keys: EpochKeys = KEYS,
    group: bytes = GROUP,
    counter: int = 1,
    seed: str = "seal",
) -> CaseEnvelope:
    suite = cipher_suite(suite_id)
    key = signing_key(suite, "alice")
    return seal_item(suite, group, keys, ALICE, counter, key, item, DeterministicRandom(seed))


# --- the spec, by hand ----------------------------------------------------------------------


def _key_nonce(suite: CipherSuite, secret: bytes, item_id: bytes) -> tuple[bytes, bytes]:
    key = expand_with_label(suite, secret, "casecircle item key", item_id, suite.aead.key_size)
    nonce = expand_with_label(
        suite, secret, "casecircle item nonce", item_id, suite.aead.nonce_size
    )
    return key, nonce


def _aad(group: bytes, kind: int, epoch: int, item_id: bytes) -> bytes:
    return (
        ENVELOPE_VERSION.to_bytes(2, "big")
        + bytes([kind])
        + opaque(group)
        + epoch.to_bytes(8, "big")
        + item_id
    )


def item_tbs(
    group: bytes, kind: int, epoch: int, item_id: bytes, author: bytes, counter: int, item: bytes
) -> bytes:
    return (
        opaque(group)
        + bytes([kind])
        + epoch.to_bytes(8, "big")
        + item_id
        + author
        + counter.to_bytes(8, "big")
        + opaque(item)
    )


def signed_body(
    suite: CipherSuite,
    key: SigningKey,
    *,
    group: bytes = GROUP,
    kind: int = EnvelopeKind.CONTENT,
    epoch: int = EPOCH,
    item_id: bytes = b"I" * 16,
    author: bytes = ALICE,
    counter: int = 1,
    item: bytes,
) -> bytes:
    """SealedItem without its padding, signed by ``key`` over the given context."""
    tbs = item_tbs(group, kind, epoch, item_id, author, counter, item)
    signature = sign_with_label(suite, key, ITEM_SIGNATURE_LABEL, tbs)
    return author + counter.to_bytes(8, "big") + opaque(item) + opaque(signature)


def padded(body: bytes) -> bytes:
    return body + bytes(padded_length(len(body)) - len(body))


def hand_seal(
    suite: CipherSuite,
    secret: bytes,
    plaintext: bytes,
    *,
    group: bytes = GROUP,
    kind: int = EnvelopeKind.CONTENT,
    epoch: int = EPOCH,
    item_id: bytes = b"I" * 16,
) -> CaseEnvelope:
    key, nonce = _key_nonce(suite, secret, item_id)
    ciphertext = suite.aead.seal(key, nonce, _aad(group, kind, epoch, item_id), plaintext)
    return CaseEnvelope(
        kind=EnvelopeKind(kind), epoch=epoch, item_id=item_id, ciphertext=ciphertext
    )


def hand_open(
    suite: CipherSuite, secret: bytes, envelope: CaseEnvelope, group: bytes = GROUP
) -> bytes:
    key, nonce = _key_nonce(suite, secret, envelope.item_id)
    aad = _aad(group, envelope.kind, envelope.epoch, envelope.item_id)
    return suite.aead.open(key, nonce, aad, envelope.ciphertext)


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("suite_id", SUITES)
@pytest.mark.parametrize("name", ITEMS)
def test_seal_open_verify_round_trip(suite_id: int, name: str) -> None:
    suite, item = cipher_suite(suite_id), ITEMS[name]
    envelope = seal(item, suite_id, counter=42)
    expected_kind = EnvelopeKind.RING if name == "ring" else EnvelopeKind.CONTENT
    assert envelope.kind == expected_kind
    assert envelope.epoch == EPOCH
    received = parse_envelope(envelope.to_bytes())
    assert received == envelope
    opened = open_envelope(suite, GROUP, KEYS, received)
    assert (opened.group_id, opened.kind, opened.epoch) == (GROUP, expected_kind, EPOCH)
    assert (opened.item_id, opened.author, opened.counter) == (envelope.item_id, ALICE, 42)
    assert opened.encoded_item == encode_item(item)
    verified = opened.verify(suite, signing_key(suite, "alice").public_key)
    assert verified.item == item
    assert (verified.epoch, verified.item_id, verified.author, verified.counter) == (
        EPOCH,
        envelope.item_id,
        ALICE,
        42,
    )


@pytest.mark.parametrize("suite_id", SUITES)
def test_envelopes_follow_the_documented_format(suite_id: int) -> None:
    """The header layout, the key and nonce derivation, the aad, the signed content and the
    padding are those of the module docstring: the envelope opens by hand."""
    suite = cipher_suite(suite_id)
    envelope = seal(NOTE, suite_id, counter=3)
    encoded = envelope.to_bytes()
    header = b"\x00\x01" + b"\x01" + EPOCH.to_bytes(8, "big") + envelope.item_id
    assert encoded == header + encode_varint(len(envelope.ciphertext)) + envelope.ciphertext

    plaintext = hand_open(suite, KEYS.history_key, envelope)
    item = encode_item(NOTE)
    prefix = ALICE + (3).to_bytes(8, "big") + opaque(item)
    assert plaintext.startswith(prefix)
    reader = Reader(plaintext, len(prefix))
    signature = reader.opaque()
    body_length = len(plaintext) - reader.remaining
    assert len(plaintext) == padded_length(body_length) == 256
    assert plaintext[body_length:] == bytes(len(plaintext) - body_length)
    tbs = item_tbs(GROUP, EnvelopeKind.CONTENT, EPOCH, envelope.item_id, ALICE, 3, item)
    public = signing_key(suite, "alice").public_key
    verify_with_label(suite, public, ITEM_SIGNATURE_LABEL, tbs, signature)


def test_content_uses_the_history_key_and_rings_the_ring_key() -> None:
    suite = cipher_suite(1)
    note, ring = seal(NOTE), seal(RING)
    assert hand_open(suite, KEYS.history_key, note)
    assert hand_open(suite, KEYS.ring_key, ring)
    only_history = replace(KEYS, ring_key=b"\x99" * 32)
    only_ring = replace(KEYS, history_key=b"\x99" * 32)
    open_envelope(suite, GROUP, only_history, note)
    open_envelope(suite, GROUP, only_ring, ring)
    with pytest.raises(EnvelopeDecryptError):
        open_envelope(suite, GROUP, only_ring, note)
    with pytest.raises(EnvelopeDecryptError):
        open_envelope(suite, GROUP, only_history, ring)


def test_sealing_is_deterministic_given_the_random_source() -> None:
    assert seal(NOTE, seed="a").to_bytes() == seal(NOTE, seed="a").to_bytes()
    first, second = seal(NOTE, seed="a"), seal(NOTE, seed="b")
    assert first.item_id != second.item_id
    assert first.ciphertext != second.ciphertext


def test_an_author_id_is_sixteen_bytes() -> None:
    suite = cipher_suite(1)
    key = signing_key(suite, "alice")
    for author in (b"", ALICE[:15], ALICE + b"\x00"):
        with pytest.raises(EnvelopeError, match="author") as caught:
            seal_item(suite, GROUP, KEYS, author, 1, key, NOTE, DeterministicRandom())
        assert caught.value.code == "envelope"


def test_a_key_of_another_scheme_cannot_seal() -> None:
    suite, ed25519_key = cipher_suite(2), signing_key(cipher_suite(1), "alice")
    with pytest.raises(InvalidKeyError):
        seal_item(suite, GROUP, KEYS, ALICE, 1, ed25519_key, NOTE, DeterministicRandom())


# --- epoch keys -------------------------------------------------------------------------------


def test_export_epoch_keys_asks_the_exporter_for_both_labels() -> None:
    calls: list[tuple[str, bytes, int]] = []

    def exporter(label: str, context: bytes, length: int, /) -> bytes:
        calls.append((label, context, length))
        return label.encode().ljust(length, b"\x00")[:length]

    keys = export_epoch_keys(9, GROUP, exporter)
    assert sorted(calls) == [(HISTORY_LABEL, GROUP, 32), (RING_LABEL, GROUP, 32)]
    assert (HISTORY_LABEL, RING_LABEL) == ("casecircle note", "casecircle ring")
    assert keys.epoch == 9
    assert keys.history_key == b"casecircle note".ljust(32, b"\x00")
    assert keys.ring_key == b"casecircle ring".ljust(32, b"\x00")
    assert keys.secret(EnvelopeKind.CONTENT) == keys.history_key
    assert keys.secret(EnvelopeKind.RING) == keys.ring_key


def test_keys_from_a_real_group_seal_and_open() -> None:
    suite = cipher_suite(1)
    group = Device(suite, "alice").create_group(GROUP)
    keys = export_epoch_keys(group.epoch, GROUP, group.export_secret)
    assert keys.history_key == group.export_secret("casecircle note", GROUP, 32)
    assert keys.ring_key == group.export_secret("casecircle ring", GROUP, 32)
    assert keys.history_key != keys.ring_key
    other = export_epoch_keys(group.epoch, OTHER_GROUP, group.export_secret)
    assert other.history_key != keys.history_key
    envelope = seal(NOTE, keys=keys)
    assert open_envelope(suite, GROUP, keys, envelope).encoded_item == encode_item(NOTE)


def test_repr_of_epoch_keys_hides_both_keys() -> None:
    keys = EpochKeys(epoch=4, history_key=bytes(range(32)), ring_key=b"\xcd" * 32)
    for shown in (repr(keys), str(keys), repr([keys]), f"{keys}"):
        assert "epoch=4" in shown
        for key in (keys.history_key, keys.ring_key):
            assert key.hex() not in shown
            assert repr(key)[2:-1] not in shown


# --- what does not open -----------------------------------------------------------------------


@pytest.mark.parametrize("suite_id", SUITES)
def test_another_epochs_keys_do_not_open(suite_id: int) -> None:
    suite = cipher_suite(suite_id)
    envelope = seal(NOTE, suite_id)
    later = epoch_keys(EPOCH + 1)
    with pytest.raises(EnvelopeError, match="epoch") as mismatch:
        open_envelope(suite, GROUP, later, envelope)
    assert type(mismatch.value) is EnvelopeError
    assert mismatch.value.code == "envelope"
    with pytest.raises(EnvelopeDecryptError) as caught:  # the envelope relabelled
        open_envelope(suite, GROUP, later, replace(envelope, epoch=EPOCH + 1))
    assert caught.value.code == "envelope_decrypt"
    with pytest.raises(EnvelopeDecryptError):  # the same epoch number of another case
        open_envelope(suite, GROUP, epoch_keys(EPOCH, seed="another case"), envelope)
    with pytest.raises(EnvelopeDecryptError):  # the right secrets named for another epoch
        open_envelope(suite, GROUP, replace(KEYS, epoch=8), replace(envelope, epoch=8))


@pytest.mark.parametrize("suite_id", SUITES)
def test_another_group_id_does_not_open(suite_id: int) -> None:
    """B6: the group id is in the aad, so an envelope moved to another case fails."""
    suite = cipher_suite(suite_id)
    envelope = seal(NOTE, suite_id)
    for group in (OTHER_GROUP, GROUP[:-1], GROUP + b"\x00", b""):
        with pytest.raises(EnvelopeDecryptError) as caught:
            open_envelope(suite, group, KEYS, envelope)
        assert caught.value.code == "envelope_decrypt"


@pytest.mark.parametrize("suite_id", SUITES)
def test_flipped_ciphertext_bits_do_not_open(suite_id: int) -> None:
    """B7: any bit of the ciphertext or its tag."""
    suite = cipher_suite(suite_id)
    envelope = seal(NOTE, suite_id)
    ciphertext = envelope.ciphertext
    for position in (0, 1, len(ciphertext) // 2, len(ciphertext) - 17, len(ciphertext) - 1):
        for bit in (0, 7):
            flipped = bytearray(ciphertext)
            flipped[position] ^= 1 << bit
            with pytest.raises(EnvelopeDecryptError):
                open_envelope(suite, GROUP, KEYS, replace(envelope, ciphertext=bytes(flipped)))


@pytest.mark.parametrize("cut", [0, 1, 15, 16, 17, 100])
def test_truncated_or_extended_ciphertexts_do_not_open(cut: int) -> None:
    suite = cipher_suite(1)
    envelope = seal(NOTE)
    with pytest.raises(EnvelopeDecryptError):
        open_envelope(suite, GROUP, KEYS, replace(envelope, ciphertext=envelope.ciphertext[:cut]))
    with pytest.raises(EnvelopeDecryptError):
        extended = envelope.ciphertext + bytes(cut + 1)
        open_envelope(suite, GROUP, KEYS, replace(envelope, ciphertext=extended))


@pytest.mark.parametrize("suite_id", SUITES)
def test_an_item_id_swapped_in_does_not_open(suite_id: int) -> None:
    suite = cipher_suite(suite_id)
    first, second = seal(NOTE, suite_id, seed="first"), seal(INFO, suite_id, seed="second")
    for envelope, other in ((first, second), (second, first)):
        with pytest.raises(EnvelopeDecryptError):
            open_envelope(suite, GROUP, KEYS, replace(envelope, item_id=other.item_id))


def test_an_envelope_relabelled_as_another_kind_does_not_open() -> None:
    """A9 at the AEAD: the kind picks the key and is in the aad."""
    suite = cipher_suite(1)
    same = EpochKeys(epoch=EPOCH, history_key=b"\x42" * 32, ring_key=b"\x42" * 32)
    for item, kind in ((NOTE, EnvelopeKind.RING), (RING, EnvelopeKind.CONTENT)):
        envelope = seal(item, keys=same)
        with pytest.raises(EnvelopeDecryptError):
            open_envelope(suite, GROUP, same, replace(envelope, kind=kind))


# --- author signatures ------------------------------------------------------------------------


@pytest.mark.parametrize("suite_id", SUITES)
def test_another_authors_key_does_not_verify(suite_id: int) -> None:
    """B8: the author id is a claim; only the certified key of that author verifies it."""
    suite = cipher_suite(suite_id)
    opened = open_envelope(suite, GROUP, KEYS, seal(NOTE, suite_id))
    with pytest.raises(ItemSignatureError) as caught:
        opened.verify(suite, signing_key(suite, "mallory").public_key)
    assert caught.value.code == "item_signature"


@pytest.mark.parametrize(
    "changes",
    [
        {"group": OTHER_GROUP},
        {"epoch": EPOCH + 1},
        {"item_id": b"J" * 16},
        {"kind": EnvelopeKind.RING},
    ],
    ids=["another case", "another epoch", "another slot", "another kind"],
)
def test_a_signed_item_moved_by_an_insider_does_not_verify(changes: dict[str, object]) -> None:
    """B6, B7: a member holding the keys re-seals Alice's signed item elsewhere; it opens,
    but her signature covers the case, epoch, item id and kind it was written for."""
    suite = cipher_suite(1)
    original = seal(NOTE)
    body = hand_open(suite, KEYS.history_key, original)  # author, counter, item, signature
    group = changes.get("group", GROUP)
    epoch = changes.get("epoch", EPOCH)
    kind = changes.get("kind", EnvelopeKind.CONTENT)
    item_id = changes.get("item_id", original.item_id)
    assert isinstance(group, bytes) and isinstance(epoch, int) and isinstance(item_id, bytes)
    assert isinstance(kind, EnvelopeKind)
    keys = epoch_keys(epoch, seed="another case" if group != GROUP else "case")
    moved = hand_seal(
        suite, keys.secret(kind), body, group=group, kind=kind, epoch=epoch, item_id=item_id
    )
    opened = open_envelope(suite, group, keys, moved)
    assert opened.encoded_item == encode_item(NOTE)
    with pytest.raises(ItemSignatureError):
        opened.verify(suite, signing_key(suite, "alice").public_key)


@pytest.mark.parametrize(
    "changes",
    [{"author": MALLORY}, {"counter": 2}],
    ids=["author rewritten", "counter rewritten"],
)
def test_rewritten_author_or_counter_does_not_verify(changes: dict[str, object]) -> None:
    """B4, B8: the counter and the author id are signed too."""
    suite = cipher_suite(1)
    original = seal(NOTE, counter=1)
    body = hand_open(suite, KEYS.history_key, original)
    author = changes.get("author", ALICE)
    counter = changes.get("counter", 1)
    assert isinstance(author, bytes) and isinstance(counter, int)
    rewritten = author + counter.to_bytes(8, "big") + body[24:]
    moved = hand_seal(suite, KEYS.history_key, rewritten, item_id=original.item_id)
    opened = open_envelope(suite, GROUP, KEYS, moved)
    assert (opened.author, opened.counter) == (author, counter)
    for name in ("alice", "mallory"):
        with pytest.raises(ItemSignatureError):
            opened.verify(suite, signing_key(suite, name).public_key)


def test_every_opened_field_is_covered_by_the_signature() -> None:
    suite = cipher_suite(1)
    opened = open_envelope(suite, GROUP, KEYS, seal(NOTE))
    public = signing_key(suite, "alice").public_key
    opened.verify(suite, public)
    changes: dict[str, Any] = {
        "group_id": OTHER_GROUP,
        "kind": EnvelopeKind.RING,
        "epoch": EPOCH + 1,
        "item_id": b"J" * 16,
        "author": MALLORY,
        "counter": 2,
        "encoded_item": encode_item(INFO),
        "signature": opened.signature[:-1] + bytes([opened.signature[-1] ^ 1]),
    }
    for field, value in changes.items():
        with pytest.raises(ItemSignatureError):
            replace(opened, **{field: value}).verify(suite, public)


# --- kinds (A9) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "kind"),
    [(RING, EnvelopeKind.CONTENT), (NOTE, EnvelopeKind.RING), (INFO, EnvelopeKind.RING)],
    ids=["ring as content", "note as ring", "case info as ring"],
)
def test_an_item_in_the_wrong_kind_of_envelope_is_refused(
    item: CaseItem, kind: EnvelopeKind
) -> None:
    """Properly signed by its author for that kind and sealed under that kind's key, so
    only the kind rule can refuse it."""
    suite = cipher_suite(1)
    key = signing_key(suite, "alice")
    body = signed_body(suite, key, kind=kind, item=encode_item(item))
    envelope = hand_seal(suite, KEYS.secret(kind), padded(body), kind=kind)
    opened = open_envelope(suite, GROUP, KEYS, parse_envelope(envelope.to_bytes()))
    assert opened.kind == kind
    with pytest.raises(EnvelopeKindError) as caught:
        opened.verify(suite, key.public_key)
    assert caught.value.code == "envelope_kind"


@pytest.mark.parametrize("last", [EPOCH, EPOCH + 1, 2**64 - 1])
def test_a_ring_naming_its_own_or_a_later_epoch_is_refused(last: int) -> None:
    """A8: a ring holds the keys of the epochs before the one it is sealed in; a ring sealed
    in epoch 7 that offers a key for epoch 7 or later can only plant a false one."""
    suite = cipher_suite(1)
    ring = HistoryRing(keys=((0, b"\x00" * 32), (last, b"\xee" * 32)))
    opened = open_envelope(suite, GROUP, KEYS, seal(ring))
    with pytest.raises(EnvelopeError, match="epoch") as caught:
        opened.verify(suite, signing_key(suite, "alice").public_key)
    assert caught.value.code == "envelope"
    earlier = HistoryRing(keys=((0, b"\x00" * 32), (EPOCH - 1, b"\xee" * 32)))
    opened = open_envelope(suite, GROUP, KEYS, seal(earlier))
    assert opened.verify(suite, signing_key(suite, "alice").public_key).item == earlier


# --- padding (D3) -----------------------------------------------------------------------------


@pytest.mark.parametrize("suite_id", SUITES)
def test_short_notes_all_have_the_same_size(suite_id: int) -> None:
    suite = cipher_suite(suite_id)
    texts = ["", "a", "ok", "x" * 50, "Schůzka proběhla.", "y" * 120]
    sizes = {len(seal(Note(text=text), suite_id).ciphertext) for text in texts}
    assert sizes == {256 + suite.aead.tag_size}
    info = {
        len(seal(CaseInfo(title=t, pseudonym=t, history=HistoryPolicy.FULL), suite_id).ciphertext)
        for t in "AB"
    }
    assert info == sizes


def test_longer_notes_are_padded_to_padme_lengths() -> None:
    suite = cipher_suite(1)
    signature_size = 64
    sizes = set()
    lengths = range(0, 4000, 37)
    for length in lengths:
        item = encode_item(Note(text="n" * length))
        body = 16 + 8 + len(opaque(item)) + len(opaque(b"s" * signature_size))
        size = len(seal(Note(text="n" * length)).ciphertext)
        assert size == padded_length(body) + suite.aead.tag_size
        assert padme(size - suite.aead.tag_size) == size - suite.aead.tag_size
        sizes.add(size)
    assert len(sizes) < len(lengths)


@pytest.mark.parametrize("position", [-1, 0, 50])
def test_non_zero_padding_is_refused(position: int) -> None:
    suite = cipher_suite(1)
    key = signing_key(suite, "alice")
    body = signed_body(suite, key, item=encode_item(NOTE))
    plaintext = bytearray(padded(body))
    plaintext[len(body) + position if position >= 0 else position] = 1
    envelope = hand_seal(suite, KEYS.history_key, bytes(plaintext))
    with pytest.raises(DecodeError, match="padding") as caught:
        open_envelope(suite, GROUP, KEYS, envelope)
    assert caught.value.code == "decode"
    good = hand_seal(suite, KEYS.history_key, padded(body))
    assert open_envelope(suite, GROUP, KEYS, good).verify(suite, key.public_key).item == NOTE


@pytest.mark.parametrize("cut", [0, 15, 16, 23, 24, 25, 40])
def test_authentic_but_truncated_plaintexts_do_not_decode(cut: int) -> None:
    """Only a key holder can make one; it still fails with DecodeError, not IndexError."""
    suite = cipher_suite(1)
    body = signed_body(suite, signing_key(suite, "alice"), item=encode_item(NOTE))
    envelope = hand_seal(suite, KEYS.history_key, body[:cut])
    with pytest.raises(DecodeError):
        open_envelope(suite, GROUP, KEYS, envelope)


# --- strict decoding of envelopes -------------------------------------------------------------


def test_truncated_and_extended_envelopes_do_not_parse() -> None:
    encoded = seal(NOTE).to_bytes()
    for cut in range(len(encoded)):
        with pytest.raises(DecodeError) as caught:
            parse_envelope(encoded[:cut])
        assert caught.value.code == "decode"
    for extra in (b"\x00", b"\xff", encoded):
        with pytest.raises(DecodeError, match="trailing"):
            parse_envelope(encoded + extra)


@pytest.mark.parametrize("version", [0, 2, 0x0100, 0xFFFF])
def test_unknown_versions_are_refused(version: int) -> None:
    encoded = seal(NOTE).to_bytes()
    with pytest.raises(EnvelopeVersionError) as caught:
        parse_envelope(version.to_bytes(2, "big") + encoded[2:])
    assert caught.value.code == "envelope_version"


@pytest.mark.parametrize("kind", [0, 3, 255])
def test_unknown_kinds_are_refused(kind: int) -> None:
    encoded = seal(NOTE).to_bytes()
    with pytest.raises(DecodeError, match="kind"):
        parse_envelope(encoded[:2] + bytes([kind]) + encoded[3:])


def test_a_non_minimal_ciphertext_length_is_refused() -> None:
    envelope = seal(NOTE)
    header = envelope.to_bytes()[: 2 + 1 + 8 + 16]
    length = len(envelope.ciphertext)
    assert length < 2**14
    long_form = (0x80000000 | length).to_bytes(4, "big")
    with pytest.raises(DecodeError, match="non-minimal"):
        parse_envelope(header + long_form + envelope.ciphertext)


@pytest.mark.parametrize(
    "changes", [{"item_id": b"I" * 15}, {"item_id": b"I" * 17}, {"epoch": -1}, {"epoch": 2**64}]
)
def test_malformed_envelopes_cannot_be_built(changes: dict[str, Any]) -> None:
    with pytest.raises(DecodeError):
        replace(seal(NOTE), **changes)


def test_envelope_errors_are_validation_errors() -> None:
    for error in (EnvelopeVersionError, EnvelopeDecryptError, EnvelopeKindError):
        assert issubclass(error, EnvelopeError)
    assert issubclass(ItemSignatureError, EnvelopeError)
    assert issubclass(EnvelopeError, ValidationError)


# --- properties -------------------------------------------------------------------------------

FUZZ = settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
SEEDS = st.integers(min_value=0, max_value=2**64 - 1)
SUITE = cipher_suite(1)
ALICE_KEY = signing_key(SUITE, "alice")
SEED_ENVELOPES = (seal(NOTE), seal(INFO, seed="info"), seal(RING, seed="ring"))
ITEM_FAILURES = (DecodeError, CaseItemError, DirectoryFieldError, AttachmentError)


def parse_or_none(data: bytes) -> CaseEnvelope | None:
    try:
        envelope = parse_envelope(data)
    except (DecodeError, EnvelopeVersionError) as exc:
        assert isinstance(exc, CasecircleError)
        return None
    assert envelope.to_bytes() == data, "an accepted input must be canonical"
    return envelope


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_only_fail_to_parse_with_typed_errors(data: bytes) -> None:
    parse_or_none(data)
    parse_or_none(b"\x00\x01" + data)


@FUZZ
@given(seed=SEEDS)
def test_mutated_envelopes_never_open(seed: int) -> None:
    """Whatever a mutation leaves parseable fails to open with an EnvelopeError."""
    rnd = random.Random(seed)
    for _ in range(4):
        original = rnd.choice(SEED_ENVELOPES)
        data = mutate(original.to_bytes(), rnd)
        envelope = parse_or_none(data)
        if envelope is None:
            continue
        if data == original.to_bytes():
            open_envelope(SUITE, GROUP, KEYS, envelope)
            continue
        with pytest.raises(EnvelopeError):
            open_envelope(SUITE, GROUP, KEYS, envelope)


def _open_and_verify(plaintext: bytes, kind: EnvelopeKind) -> None:
    envelope = hand_seal(SUITE, KEYS.secret(kind), plaintext, kind=kind)
    try:
        opened = open_envelope(SUITE, GROUP, KEYS, envelope)
    except DecodeError:
        return
    assert isinstance(opened, OpenedItem)
    try:
        opened.verify(SUITE, ALICE_KEY.public_key)
    except (ItemSignatureError, EnvelopeKindError, EnvelopeError, *ITEM_FAILURES) as exc:
        assert isinstance(exc, CasecircleError)


@FUZZ
@given(plaintext=st.binary(max_size=300), kind=st.sampled_from(EnvelopeKind))
def test_random_authentic_plaintexts_only_fail_with_typed_errors(
    plaintext: bytes, kind: EnvelopeKind
) -> None:
    """C6: an insider holding the epoch key seals garbage."""
    _open_and_verify(plaintext, kind)


@FUZZ
@given(
    item=st.binary(max_size=200),
    kind=st.sampled_from(EnvelopeKind),
    padding=st.integers(0, 300),
)
def test_signed_random_items_only_fail_with_typed_errors(
    item: bytes, kind: EnvelopeKind, padding: int
) -> None:
    """C6: an insider signs and seals an item that is not a valid CaseItem: the signature
    verifies, and decoding the item fails with a typed error — or it is a valid item, and
    then it is exactly the signed bytes."""
    body = signed_body(SUITE, ALICE_KEY, kind=kind, item=item)
    envelope = hand_seal(SUITE, KEYS.secret(kind), body + bytes(padding), kind=kind)
    opened = open_envelope(SUITE, GROUP, KEYS, envelope)
    try:
        verified = opened.verify(SUITE, ALICE_KEY.public_key)
    except (EnvelopeKindError, EnvelopeError, *ITEM_FAILURES) as exc:
        assert not isinstance(exc, ItemSignatureError)
        return
    assert encode_item(verified.item) == item


@FUZZ
@given(seed=SEEDS)
def test_mutated_signed_items_only_fail_with_typed_errors(seed: int) -> None:
    rnd = random.Random(seed)
    choices: list[CaseItem] = [NOTE, INFO, RING]
    item = mutate(encode_item(rnd.choice(choices)), rnd)
    kind = rnd.choice(list(EnvelopeKind))
    body = signed_body(SUITE, ALICE_KEY, kind=kind, item=item)
    envelope = hand_seal(SUITE, KEYS.secret(kind), padded(body), kind=kind)
    opened = open_envelope(SUITE, GROUP, KEYS, envelope)
    try:
        verified = opened.verify(SUITE, ALICE_KEY.public_key)
    except (EnvelopeKindError, EnvelopeError, *ITEM_FAILURES) as exc:
        assert not isinstance(exc, ItemSignatureError)
        return
    assert encode_item(verified.item) == item


# --- the per-epoch derivation cache -----------------------------------------------------------


def test_epoch_keys_remember_derivations_per_suite_and_kind_without_mixing_them() -> None:
    """One EpochKeys serves every suite and both kinds; what it remembers for one (the
    secret's HMAC pads) never derives another's key, and it is no part of equality."""
    keys = epoch_keys(seed="cache")
    fresh = epoch_keys(seed="cache")
    assert keys == fresh and hash(keys) == hash(fresh)
    for suite_id in SUITES:
        suite = cipher_suite(suite_id)
        for item in (NOTE, RING):
            envelope = seal(item, suite_id, keys=keys, seed=f"cache {suite_id}")
            secret = keys.history_key if item is NOTE else keys.ring_key
            assert hand_open(suite, secret, envelope)  # the spec's key and nonce
            for reader in (keys, fresh, epoch_keys(seed="cache")):
                opened = open_envelope(suite, GROUP, reader, envelope)
                assert opened.verify(suite, signing_key(suite, "alice").public_key).item == item
    assert keys == fresh and "cache" not in repr(keys) and "Expander" not in repr(keys)
    assert replace(keys, epoch=EPOCH + 1) != keys
    other = replace(keys, history_key=keys.ring_key)  # a new object remembers nothing
    with pytest.raises(EnvelopeDecryptError):
        open_envelope(cipher_suite(1), GROUP, other, seal(NOTE, keys=keys))


def test_missing_ring_key_is_refused_at_every_use() -> None:
    """Keys recovered from a ring have no ring key: a ring envelope fails each time."""
    keys = EpochKeys(epoch=EPOCH, history_key=KEYS.history_key, ring_key=b"")
    envelope = seal(RING)
    for _ in range(2):
        with pytest.raises(CasecircleError):
            open_envelope(cipher_suite(1), GROUP, keys, envelope)
    assert open_envelope(cipher_suite(1), GROUP, keys, seal(NOTE)).author == ALICE


def test_a_short_item_id_from_the_random_source_is_refused() -> None:
    class Short:
        def random_bytes(self, n: int) -> bytes:
            return bytes(n - 1)

    suite = cipher_suite(1)
    with pytest.raises(DecodeError, match="item id"):
        seal_item(suite, GROUP, KEYS, ALICE, 1, signing_key(suite, "alice"), NOTE, Short())
