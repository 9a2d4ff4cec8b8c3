"""crypto.attachments: the documented blob layout, streaming in any pieces, padded sizes, and
a typed error for every way a blob can be altered (ATTACKS.md D3, E9, E10, K6)."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.attachments import (
    CHUNK_SIZE,
    COMMITMENT_SIZE,
    REF_SIZE,
    AttachmentChunkError,
    AttachmentCommitmentError,
    AttachmentError,
    AttachmentFormatError,
    AttachmentHashError,
    AttachmentKey,
    AttachmentOpener,
    AttachmentRef,
    AttachmentSealer,
    AttachmentStateError,
    open_attachment,
    seal_attachment,
)
from crypto.errors import CryptoError, InvalidLengthError
from crypto.padding import padded_length
from tests.crypto.multikey_gcm import two_key_ciphertext
from tests.helpers import DeterministicRandom

TAG = 16
SEALED_CHUNK = CHUNK_SIZE + TAG


def document(size: int, seed: int = 0) -> bytes:
    """Deterministic, incompressible-looking file content."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}/{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def seal(data: bytes, seed: str = "attachment") -> tuple[bytes, AttachmentRef]:
    return seal_attachment(data, DeterministicRandom(seed))


def rehashed(ref: AttachmentRef, blob: bytes, **sizes: int) -> AttachmentRef:
    """``ref`` naming ``blob``: reaches the chunk checks behind the note's hash."""
    return AttachmentRef(
        key=ref.key,
        commitment=ref.commitment,
        ciphertext_hash=hashlib.sha256(blob).digest(),
        chunk_count=sizes.get("chunk_count", ref.chunk_count),
        padded_size=sizes.get("padded_size", ref.padded_size),
    )


def chunks_of(blob: bytes) -> list[bytes]:
    body = blob[COMMITMENT_SIZE:]
    return [body[i : i + SEALED_CHUNK] for i in range(0, len(body), SEALED_CHUNK)]


def assemble(commitment: bytes, chunks: list[bytes]) -> bytes:
    return commitment + b"".join(chunks)


# A file of three chunks: Padmé(8 + 140,000) = 143,360 = 2 · 65,536 + 12,288.
THREE_CHUNKS = document(140_000)
BLOB, REF = seal(THREE_CHUNKS)


# --- round trips, sizes and the documented layout -------------------------------------------


@pytest.mark.parametrize(
    "size",
    [0, 1, 247, 248, 249, 1000, CHUNK_SIZE - 8, CHUNK_SIZE - 7, CHUNK_SIZE, 3 * CHUNK_SIZE + 5],
)
def test_round_trip_and_sizes(size: int) -> None:
    data = document(size)
    blob, ref = seal(data)
    padded = padded_length(8 + size)
    assert ref.padded_size == padded
    assert ref.chunk_count == -(-padded // CHUNK_SIZE)
    assert len(blob) == ref.blob_size == COMMITMENT_SIZE + padded + TAG * ref.chunk_count
    assert ref.ciphertext_hash == hashlib.sha256(blob).digest()
    assert ref.commitment == ref.key.commitment() == blob[:COMMITMENT_SIZE]
    assert open_attachment(blob, ref) == data


def test_three_chunk_fixture() -> None:
    assert REF.chunk_count == 3
    assert [len(c) for c in chunks_of(BLOB)] == [SEALED_CHUNK, SEALED_CHUNK, 12_288 + TAG]


@settings(max_examples=40, deadline=None)
@given(
    data=st.binary(max_size=3 * CHUNK_SIZE).map(bytes)
    | st.integers(min_value=0, max_value=4 * CHUNK_SIZE).map(document),
    cuts=st.lists(st.integers(min_value=0, max_value=5 * CHUNK_SIZE), max_size=6),
    seed=st.text(max_size=4),
)
def test_streaming_in_any_pieces_matches_one_shot(data: bytes, cuts: list[int], seed: str) -> None:
    blob, ref = seal(data, seed)
    sealer = AttachmentSealer(len(data), DeterministicRandom(seed))
    assert sealer.blob_size == ref.blob_size  # known before any data is sealed
    streamed = bytearray()
    for piece in split(data, cuts):
        streamed += sealer.update(piece)
    tail, streamed_ref = sealer.finalize()
    assert bytes(streamed + tail) == blob
    assert streamed_ref.to_bytes() == ref.to_bytes()

    opener = AttachmentOpener(ref)
    out = bytearray()
    for piece in split(blob, cuts):
        out += opener.update(piece)
    opener.finalize()
    assert out == data


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)] or [b""]


def test_the_blob_is_exactly_the_documented_layout() -> None:
    """Rebuilt from the module docstring with the libraries directly, byte for byte."""
    key = REF.key.to_bytes()

    def expand(label: bytes, length: int) -> bytes:
        return HKDFExpand(hashes.SHA256(), length, bytes([len(label)]) + label).derive(key)

    assert REF.commitment == expand(b"casecircle attachment commitment", 32)
    assert BLOB == documented_blob(
        key, len(THREE_CHUNKS).to_bytes(8, "big") + THREE_CHUNKS + bytes(143_360 - 140_008)
    )


def documented_blob(key: bytes, stream: bytes, finals: list[bool] | None = None) -> bytes:
    label = b"casecircle attachment chunk key"
    chunk_key = HKDFExpand(hashes.SHA256(), 32, bytes([len(label)]) + label).derive(key)
    label = b"casecircle attachment commitment"
    blob = HKDFExpand(hashes.SHA256(), 32, bytes([len(label)]) + label).derive(key)
    pieces = [stream[i : i + CHUNK_SIZE] for i in range(0, len(stream), CHUNK_SIZE)]
    finals = finals or [index == len(pieces) - 1 for index in range(len(pieces))]
    for index, piece in enumerate(pieces):
        final = b"\x01" if finals[index] else b"\x00"
        aad = b"casecircle attachment v1" + index.to_bytes(8, "big") + final
        blob += AESGCM(chunk_key).encrypt(bytes(4) + index.to_bytes(8, "big"), piece, aad)
    return blob


def test_progress_counts_chunks() -> None:
    sealer = AttachmentSealer(len(THREE_CHUNKS), DeterministicRandom("attachment"))
    seen = []
    for offset in range(0, len(THREE_CHUNKS), 50_000):
        sealer.update(THREE_CHUNKS[offset : offset + 50_000])
        seen.append(sealer.chunks_done)
    sealer.finalize()
    assert (seen, sealer.chunks_done, sealer.chunk_count) == ([0, 1, 2], 3, 3)

    opener = AttachmentOpener(REF)
    progress = []
    for offset in range(0, len(BLOB), SEALED_CHUNK):
        opener.update(BLOB[offset : offset + SEALED_CHUNK])
        progress.append((opener.chunks_done, opener.chunk_count))
    assert progress[-1] == (3, 3)


def test_sizes_leak_little() -> None:
    """D3: every file up to 248 bytes has one blob size; a thousand sizes from 4,000 share five."""
    assert {AttachmentSealer(n, DeterministicRandom()).blob_size for n in range(249)} == {304}
    sizes = {AttachmentSealer(n, DeterministicRandom()).blob_size for n in range(4000, 5000)}
    assert sizes == {4144, 4400, 4656, 4912, 5168}


def test_files_are_not_compressed() -> None:
    """K6: zeros cost as much as anything else."""
    zeros, noise = seal(bytes(100_000))[0], seal(document(100_000))[0]
    assert len(zeros) == len(noise)


# --- tampering with the blob ----------------------------------------------------------------


def test_every_altered_byte_is_refused() -> None:
    """Against the note's hash, and behind it against the commitment and the chunk tags."""
    blob, ref = seal(document(300))
    for position in range(len(blob)):
        tampered = blob[:position] + bytes([blob[position] ^ 0x04]) + blob[position + 1 :]
        with pytest.raises(AttachmentHashError):
            open_attachment(tampered, ref)
        expected = AttachmentCommitmentError if position < COMMITMENT_SIZE else AttachmentChunkError
        with pytest.raises(expected):
            open_attachment(tampered, rehashed(ref, tampered))


@pytest.mark.parametrize("position", [COMMITMENT_SIZE, 70_000, 2 * SEALED_CHUNK + 40, -1])
def test_flipped_bit_in_any_chunk(position: int) -> None:
    tampered = bytearray(BLOB)
    tampered[position] ^= 0x80
    with pytest.raises(AttachmentHashError):
        open_attachment(bytes(tampered), REF)
    with pytest.raises(AttachmentChunkError):
        open_attachment(bytes(tampered), rehashed(REF, bytes(tampered)))


@pytest.mark.parametrize("length", [0, 1, COMMITMENT_SIZE, COMMITMENT_SIZE + SEALED_CHUNK, -1])
def test_truncated_blob(length: int) -> None:
    truncated = BLOB[:length]
    with pytest.raises(AttachmentFormatError):
        open_attachment(truncated, REF)
    opener = AttachmentOpener(REF)
    opener.update(truncated)
    with pytest.raises(AttachmentFormatError):
        opener.finalize()


def test_truncation_to_fewer_chunks_contradicts_the_length() -> None:
    """Even with a reference whose count and size fit two chunks (the final flag is tested
    on its own below)."""
    truncated = BLOB[: COMMITMENT_SIZE + 2 * SEALED_CHUNK]
    ref = rehashed(REF, truncated, chunk_count=2, padded_size=2 * CHUNK_SIZE)
    with pytest.raises(AttachmentFormatError, match="length does not match"):
        open_attachment(truncated, ref)


@pytest.mark.parametrize(
    ("flags", "failing"), [([False, False], 1), ([True, True], 0), ([True, False], 0)]
)
def test_only_the_last_chunk_is_final(flags: list[bool], failing: int) -> None:
    """A stream cut at a chunk boundary would end in a chunk not sealed as final."""
    size = 2 * CHUNK_SIZE - 8  # a stream of exactly two chunks, Padmé-canonical
    assert padded_length(8 + size) == 2 * CHUNK_SIZE
    key = AttachmentKey.generate(DeterministicRandom("final flag"))
    stream = size.to_bytes(8, "big") + document(size)
    ref = reference_for(key, documented_blob(key.to_bytes(), stream))
    assert open_attachment(documented_blob(key.to_bytes(), stream), ref) == stream[8:]
    blob = documented_blob(key.to_bytes(), stream, finals=flags)
    with pytest.raises(AttachmentChunkError, match=f"chunk {failing} "):
        open_attachment(blob, rehashed(ref, blob))


@pytest.mark.parametrize("suffix", [b"\x00", BLOB[-SEALED_CHUNK:], BLOB])
def test_extended_blob(suffix: bytes) -> None:
    extended = BLOB + suffix
    with pytest.raises(AttachmentFormatError):
        open_attachment(extended, REF)
    opener = AttachmentOpener(REF)
    with pytest.raises(AttachmentFormatError):
        opener.update(extended)


@pytest.mark.parametrize(
    "order",
    [[1, 0, 2], [0, 0, 2], [0, 1, 1], [2, 1, 0], [1, 1, 2]],
    ids=["swapped", "first repeated", "last replaced", "reversed", "second repeated"],
)
def test_reordered_or_repeated_chunks(order: list[int]) -> None:
    chunks = chunks_of(BLOB)
    shuffled = assemble(BLOB[:COMMITMENT_SIZE], [chunks[i] for i in order])
    with pytest.raises(AttachmentError):
        open_attachment(shuffled, REF)
    if len(shuffled) == len(BLOB):
        with pytest.raises(AttachmentChunkError):
            open_attachment(shuffled, rehashed(REF, shuffled))


def test_inserted_chunk() -> None:
    chunks = chunks_of(BLOB)
    longer = assemble(BLOB[:COMMITMENT_SIZE], [chunks[0], chunks[0], chunks[1], chunks[2]])
    with pytest.raises(AttachmentFormatError):
        open_attachment(longer, REF)
    with pytest.raises(AttachmentChunkError):
        AttachmentOpener(REF).update(longer)


def test_chunks_spliced_from_another_file() -> None:
    other_blob, _ = seal(document(140_000, seed=1), seed="other file")
    spliced = assemble(BLOB[:COMMITMENT_SIZE], [chunks_of(BLOB)[0], *chunks_of(other_blob)[1:]])
    with pytest.raises(AttachmentHashError):
        open_attachment(spliced, REF)
    with pytest.raises(AttachmentChunkError, match="chunk 1"):
        open_attachment(spliced, rehashed(REF, spliced))


# --- keys and commitments (E9, E10) ---------------------------------------------------------


def test_blob_swapped_between_notes_is_refused() -> None:
    """E10: a note names its blob by hash and by key commitment."""
    other_blob, other_ref = seal(document(140_000, seed=1), seed="other note")
    assert len(other_blob) == len(BLOB)
    with pytest.raises(AttachmentHashError):
        open_attachment(other_blob, REF)
    with pytest.raises(AttachmentHashError):
        open_attachment(BLOB, other_ref)
    with pytest.raises(AttachmentCommitmentError):  # streaming: the first 32 bytes tell
        AttachmentOpener(REF).update(other_blob)


def test_wrong_key_is_refused_before_any_decryption() -> None:
    other = AttachmentKey.generate(DeterministicRandom("another key"))
    wrong = dataclasses.replace(REF, key=other, commitment=other.commitment())
    with pytest.raises(AttachmentCommitmentError):
        open_attachment(BLOB, rehashed(wrong, BLOB))


def test_a_reference_whose_key_and_commitment_disagree_cannot_be_built() -> None:
    other = AttachmentKey.generate(DeterministicRandom("another key"))
    with pytest.raises(AttachmentCommitmentError) as caught:
        dataclasses.replace(REF, key=other)
    assert caught.value.code == "attachment_commitment"
    with pytest.raises(AttachmentCommitmentError):
        dataclasses.replace(REF, commitment=other.commitment())


def test_one_blob_cannot_open_under_two_keys() -> None:
    """E9: an AES-GCM chunk valid under two keys (built as in the invisible-salamanders
    attack) opens only under the key its blob is committed to."""
    key1 = AttachmentKey.generate(DeterministicRandom("salamander 1"))
    key2 = AttachmentKey.generate(DeterministicRandom("salamander 2"))
    chunk_key1, chunk_key2 = key1._chunk_key(), key2._chunk_key()
    nonce = bytes(12)  # chunk 0
    aad = b"casecircle attachment v1" + bytes(8) + b"\x01"  # the only chunk is final
    sealed = two_key_ciphertext(chunk_key1, nonce, chunk_key2, nonce, aad, bytes(256))
    # The AEAD alone accepts the chunk under both keys, as two different plaintexts.
    assert AESGCM(chunk_key1).decrypt(nonce, sealed, aad) != AESGCM(chunk_key2).decrypt(
        nonce, sealed, aad
    )
    for committed, other in ((key1, key2), (key2, key1)):
        blob = committed.commitment() + sealed
        ref = AttachmentRef(
            key=other,
            commitment=other.commitment(),
            ciphertext_hash=hashlib.sha256(blob).digest(),
            chunk_count=1,
            padded_size=256,
        )
        with pytest.raises(AttachmentCommitmentError):
            open_attachment(blob, ref)
        with pytest.raises(AttachmentCommitmentError):
            AttachmentOpener(ref).update(blob)
        # Under its own key the chunk authenticates; what it decrypts to is not a file.
        with pytest.raises(AttachmentFormatError):
            open_attachment(
                blob, dataclasses.replace(ref, key=committed, commitment=committed.commitment())
            )


# --- canonical contents ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        ((249).to_bytes(8, "big") + bytes(248), "length does not match"),  # 257 pads to 272
        ((300).to_bytes(8, "big") + bytes(248), "length does not match"),
        ((1 << 63).to_bytes(8, "big") + bytes(248), "length does not match"),
        ((248).to_bytes(8, "big") + bytes(247) + b"\x01", None),  # no padding: fine
        ((10).to_bytes(8, "big") + bytes(10) + b"\x01" + bytes(237), "padding"),
        ((10).to_bytes(8, "big") + bytes(247) + b"\x01", "padding"),
    ],
)
def test_length_and_padding_must_be_canonical(stream: bytes, message: str | None) -> None:
    """Only a sender could write these, and the opener still refuses them."""
    key = AttachmentKey.generate(DeterministicRandom("canonical"))
    blob = documented_blob(key.to_bytes(), stream)
    ref = reference_for(key, blob)
    if message is None:
        assert open_attachment(blob, ref) == stream[8:]
        return
    with pytest.raises(AttachmentFormatError, match=message):
        open_attachment(blob, ref)


def test_padding_spanning_whole_chunks_is_checked() -> None:
    """Just above 8 MiB, Padmé adds 256 KiB: four chunks of nothing but padding."""
    size = (1 << 23) - 7
    padded = padded_length(8 + size)
    assert padded - 8 - size == 262_143
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    blob, ref = seal(data)
    assert ref.chunk_count == 132
    assert open_attachment(blob, ref) == data

    key = AttachmentKey.generate(DeterministicRandom("padding chunks"))
    stream = bytearray(size.to_bytes(8, "big") + data + bytes(padded - 8 - size))
    stream[-1] = 1
    blob = documented_blob(key.to_bytes(), bytes(stream))
    with pytest.raises(AttachmentFormatError, match="padding"):
        open_attachment(blob, reference_for(key, blob))


def reference_for(key: AttachmentKey, blob: bytes) -> AttachmentRef:
    """What an honest note would carry for ``blob`` sealed (by hand) under ``key``."""
    padded = len(blob) - COMMITMENT_SIZE
    padded -= TAG * -(-padded // SEALED_CHUNK)
    return AttachmentRef(
        key=key,
        commitment=key.commitment(),
        ciphertext_hash=hashlib.sha256(blob).digest(),
        chunk_count=-(-padded // CHUNK_SIZE),
        padded_size=padded,
    )


# --- the reference --------------------------------------------------------------------------


def test_reference_round_trips_and_hides_its_key() -> None:
    encoded = REF.to_bytes()
    assert len(encoded) == REF_SIZE == 109
    assert AttachmentRef.from_bytes(encoded) == REF
    assert REF.key.to_bytes().hex() not in repr(REF)
    assert repr(REF.key) == "AttachmentKey(<redacted>)"


@pytest.mark.parametrize(
    "encoded",
    [
        REF.to_bytes()[:-1],
        REF.to_bytes() + b"\x00",
        b"\x02" + REF.to_bytes()[1:],
        REF.to_bytes()[:-8] + (143_361).to_bytes(8, "big"),  # not a padded size
        REF.to_bytes()[:-12] + (4).to_bytes(4, "big") + REF.to_bytes()[-8:],  # wrong count
        REF.to_bytes()[:-8] + (100).to_bytes(8, "big"),  # below the minimum
    ],
)
def test_malformed_reference(encoded: bytes) -> None:
    with pytest.raises(AttachmentFormatError):
        AttachmentRef.from_bytes(encoded)


def test_reference_with_a_flipped_key_or_commitment() -> None:
    encoded = bytearray(REF.to_bytes())
    for position in (1, 33):  # first byte of the key, first byte of the commitment
        tampered = bytearray(encoded)
        tampered[position] ^= 1
        with pytest.raises(AttachmentCommitmentError):
            AttachmentRef.from_bytes(bytes(tampered))


def test_reference_field_lengths() -> None:
    with pytest.raises(AttachmentFormatError):
        dataclasses.replace(REF, ciphertext_hash=b"short")
    with pytest.raises(InvalidLengthError):
        AttachmentKey(bytes(31))


def test_key_equality_and_hash() -> None:
    key = AttachmentKey(bytes(range(32)))
    assert key == AttachmentKey.from_bytes(bytes(range(32)))
    assert key != AttachmentKey(bytes(32))
    assert key != bytes(range(32))
    assert hash(key) == hash(AttachmentKey(bytes(range(32))))


# --- using the streaming objects out of turn ------------------------------------------------


def test_sealer_refuses_more_or_less_than_declared() -> None:
    sealer = AttachmentSealer(10, DeterministicRandom())
    sealer.update(b"12345")
    with pytest.raises(AttachmentStateError):
        sealer.update(b"123456")
    with pytest.raises(AttachmentStateError):
        sealer.finalize()
    sealer.update(b"67890")
    sealer.finalize()
    for call in (lambda: sealer.update(b""), sealer.finalize):
        with pytest.raises(AttachmentStateError):
            call()
    with pytest.raises(InvalidLengthError):
        AttachmentSealer(-1, DeterministicRandom())


def test_opener_is_poisoned_after_a_failure() -> None:
    opener = AttachmentOpener(REF)
    with pytest.raises(AttachmentCommitmentError):
        opener.update(bytes(COMMITMENT_SIZE))
    for call in (lambda: opener.update(BLOB), opener.finalize):
        with pytest.raises(AttachmentStateError):
            call()


def test_opener_finishes_once() -> None:
    opener = AttachmentOpener(REF)
    assert opener.update(BLOB) == THREE_CHUNKS
    opener.finalize()
    with pytest.raises(AttachmentStateError):
        opener.finalize()
    with pytest.raises(AttachmentStateError):
        opener.update(b"")


def test_plaintext_is_released_chunk_by_chunk() -> None:
    opener = AttachmentOpener(REF)
    assert opener.update(BLOB[: COMMITMENT_SIZE + SEALED_CHUNK - 1]) == b""
    released = opener.update(BLOB[COMMITMENT_SIZE + SEALED_CHUNK - 1 : -1])
    assert released == THREE_CHUNKS[: 2 * CHUNK_SIZE - 8]
    assert opener.update(BLOB[-1:]) == THREE_CHUNKS[2 * CHUNK_SIZE - 8 :]
    opener.finalize()


def test_error_codes_are_stable() -> None:
    assert {
        cls.__name__: cls.code
        for cls in (
            AttachmentError,
            AttachmentFormatError,
            AttachmentCommitmentError,
            AttachmentHashError,
            AttachmentChunkError,
            AttachmentStateError,
        )
    } == {
        "AttachmentError": "attachment",
        "AttachmentFormatError": "attachment_format",
        "AttachmentCommitmentError": "attachment_commitment",
        "AttachmentHashError": "attachment_hash",
        "AttachmentChunkError": "attachment_chunk",
        "AttachmentStateError": "attachment_state",
    }
    assert issubclass(AttachmentError, CryptoError)
