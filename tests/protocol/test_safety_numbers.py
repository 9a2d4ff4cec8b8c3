"""Safety numbers: the same on both devices, bound to every key and id, pinned by a known
answer, and a scanned QR code that matches only the right pair of devices."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from crypto.signatures import ECDSA_P256_SHA256, ED25519
from protocol.directory import DeviceCredential
from protocol.errors import DecodeError, ProtocolError, UnsupportedError, ValidationError
from protocol.safety_numbers import (
    ITERATIONS,
    QR_PAYLOAD_SIZE,
    QR_VERSION,
    DeviceFingerprint,
    SafetyNumber,
    SafetyNumberMismatchError,
    SafetyNumberPayloadError,
    SafetyNumberVersionError,
    check_scanned,
    device_fingerprint,
    qr_payload,
    safety_number,
)
from tests.helpers import DeterministicRandom

NOW = 1_750_000_000


def credential(seed: str, device_byte: int, **changes: object) -> DeviceCredential:
    base = DeviceCredential(
        platform_id=b"\x01" * 32,
        member_id=bytes([device_byte ^ 0xFF]) * 16,
        device_id=bytes([device_byte]) * 16,
        display_name="Jana Nováková",
        organisation="Intervenční centrum Ústí",
        role="sociální pracovnice",
        signature_key=ED25519.generate(DeterministicRandom(seed)).public_key,
        cipher_suite=1,
        not_before=NOW,
        not_after=NOW + 3600,
        invite_id=b"\x02" * 16,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


ALICE = credential("alice's laptop", 0xA1)
BOB = credential("bob's laptop", 0xB0)
CAROL = credential("carol's laptop", 0xC0)


def opaque(data: bytes) -> bytes:
    """RFC 9420 §2.1.2 variable-size vector, for the lengths used here (below 16384)."""
    size = len(data)
    prefix = bytes([size]) if size < 64 else (0x4000 | size).to_bytes(2, "big")
    return prefix + data


def reference_fingerprint(signature_key: bytes, device_id: bytes) -> bytes:
    """The module docstring's formula, written out independently of the codec."""
    label = b"casecircle 1 SafetyNumber"
    digest = opaque(label) + (1).to_bytes(2, "big") + opaque(signature_key) + device_id
    for _ in range(5200):
        digest = hashlib.sha512(digest + signature_key).digest()
    return digest


# --- fingerprints and the number ----------------------------------------------------------


def test_fingerprint_follows_the_documented_formula() -> None:
    expected = reference_fingerprint(ALICE.signature_key, ALICE.device_id)
    assert device_fingerprint(ALICE).digest == expected
    assert ITERATIONS == 5200


def test_digits_are_six_chunks_of_five_bytes_mod_100000() -> None:
    digest = bytes(range(64))
    chunks = [int.from_bytes(digest[i : i + 5], "big") % 100000 for i in range(0, 30, 5)]
    assert DeviceFingerprint(digest=digest).digits == "".join(f"{c:05d}" for c in chunks)


def test_digits_keep_leading_zeros() -> None:
    digest = bytes(5) + b"\x00\x00\x00\x00\x07" + bytes(54)
    assert DeviceFingerprint(digest=digest).digits[:10] == "0000000007"
    assert len(DeviceFingerprint(digest=bytes(64)).digits) == 30


def test_safety_number_is_the_same_on_both_devices() -> None:
    assert safety_number(ALICE, BOB) == safety_number(BOB, ALICE)


def test_safety_number_puts_the_lower_fingerprint_first() -> None:
    alice, bob = device_fingerprint(ALICE).digits, device_fingerprint(BOB).digits
    number = safety_number(ALICE, BOB).digits
    assert number == min(alice, bob) + max(alice, bob)


def test_known_answer() -> None:
    """Computed once with this implementation and pinned: a change to the hash input, the
    round count, the digit encoding or the order would change every user's number."""
    alice = replace(
        ALICE,
        signature_key=bytes.fromhex(
            "193e62c80a289ddcad21413316073f314319d5f58312cb042ca1c1c4617298c8"
        ),
        device_id=bytes.fromhex("a1" * 16),
    )
    bob = replace(
        BOB,
        signature_key=bytes.fromhex(
            "578366698f3095fece013f659ad281881d5c6f300a406eeae66b9b59f1d80edb"
        ),
        device_id=bytes.fromhex("b0" * 16),
    )
    assert safety_number(alice, bob).format() == (
        "08740 23920 26129 63878 98811 29062 70915 22830 04572 91492 09740 96921"
    )
    assert qr_payload(alice, bob).hex() == (
        "01"
        "46c9bf5783b93d30430e78cd5d133c209c0475e46c29399dac782f59e899a0f6"
        "e45bc0d984501476f4d0c802f76211394028fce65101be495bba249da8464677"
    )


@pytest.mark.parametrize(
    "change",
    [
        {"signature_key": ED25519.generate(DeterministicRandom("another key")).public_key},
        {"device_id": b"\xa2" * 16},
    ],
    ids=["signature_key", "device_id"],
)
@pytest.mark.parametrize("side", ["own", "peer"])
def test_number_and_code_change_with_any_key_or_id(side: str, change: dict[str, object]) -> None:
    own, peer = ALICE, BOB
    if side == "own":
        own = replace(ALICE, **change)  # type: ignore[arg-type]
    else:
        peer = replace(BOB, **change)  # type: ignore[arg-type]
    assert safety_number(own, peer) != safety_number(ALICE, BOB)
    assert qr_payload(own, peer) != qr_payload(ALICE, BOB)
    assert qr_payload(peer, own) != qr_payload(BOB, ALICE)


def test_a_single_flipped_key_bit_changes_the_fingerprint() -> None:
    key = bytearray(ALICE.signature_key)
    key[-1] ^= 0x01
    flipped = replace(ALICE, signature_key=bytes(key))
    assert device_fingerprint(flipped).digits != device_fingerprint(ALICE).digits


def test_fields_outside_key_and_device_id_do_not_matter() -> None:
    renamed = replace(
        ALICE,
        display_name="Jana Dvořáková",
        organisation="Policie ČR",
        role="",
        member_id=b"\x55" * 16,
        not_after=NOW + 7200,
    )
    assert device_fingerprint(renamed) == device_fingerprint(ALICE)


def test_keys_of_other_lengths_are_unambiguous() -> None:
    p256 = ECDSA_P256_SHA256.generate(DeterministicRandom("p256 device")).public_key
    device = replace(ALICE, signature_key=p256, cipher_suite=2)
    # the reference encodes the key's length, so a key and an id never run into each other
    assert device_fingerprint(device).digest == reference_fingerprint(p256, ALICE.device_id)


def test_format_groups_sixty_digits_in_twelve_blocks_of_five() -> None:
    number = safety_number(ALICE, CAROL)
    assert len(number.blocks) == 12
    assert all(len(block) == 5 and block.isdigit() for block in number.blocks)
    assert number.format() == " ".join(number.blocks)
    assert number.format().replace(" ", "") == number.digits


@pytest.mark.parametrize("digits", ["", "1" * 59, "1" * 61, "1" * 59 + "a", "١" * 60])
def test_safety_number_refuses_anything_but_sixty_ascii_digits(digits: str) -> None:
    with pytest.raises(ValueError, match="60 ASCII digits"):
        SafetyNumber(digits=digits)


def test_fingerprint_must_be_a_full_digest() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        DeviceFingerprint(digest=bytes(32))


# --- QR codes -----------------------------------------------------------------------------


def test_qr_payload_layout() -> None:
    payload = qr_payload(ALICE, BOB)
    assert len(payload) == QR_PAYLOAD_SIZE == 65
    assert payload[0] == QR_VERSION
    assert payload[1:33] == device_fingerprint(ALICE).digest[:32]
    assert payload[33:] == device_fingerprint(BOB).digest[:32]


def test_scanned_code_from_the_peer_is_accepted_on_both_sides() -> None:
    check_scanned(BOB, ALICE, qr_payload(ALICE, BOB))  # returns only if it matches
    check_scanned(ALICE, BOB, qr_payload(BOB, ALICE))


def test_scanned_code_with_a_substituted_peer_key_is_refused() -> None:
    # Bob's directory shows a key for Alice's device that is not the one on her screen
    substituted = replace(
        ALICE, signature_key=ED25519.generate(DeterministicRandom("ghost")).public_key
    )
    with pytest.raises(SafetyNumberMismatchError) as caught:
        check_scanned(BOB, substituted, qr_payload(ALICE, BOB))
    assert caught.value.code == "safety_number_mismatch"
    assert isinstance(caught.value, ValidationError)


def test_scanned_code_made_for_another_colleague_is_refused() -> None:
    with pytest.raises(SafetyNumberMismatchError):
        check_scanned(BOB, ALICE, qr_payload(ALICE, CAROL))


def test_own_code_scanned_back_is_refused() -> None:
    with pytest.raises(SafetyNumberMismatchError):
        check_scanned(BOB, ALICE, qr_payload(BOB, ALICE))


def test_scanner_own_key_is_checked_too() -> None:
    # Alice's directory holds a wrong key for Bob: her code does not match Bob's real key
    wrong_bob = replace(BOB, signature_key=ED25519.generate(DeterministicRandom("x")).public_key)
    with pytest.raises(SafetyNumberMismatchError):
        check_scanned(BOB, ALICE, qr_payload(ALICE, wrong_bob))


@pytest.mark.parametrize("position", [1, 16, 32, 33, 50, 64])
def test_any_flipped_bit_is_a_mismatch(position: int) -> None:
    payload = bytearray(qr_payload(ALICE, BOB))
    payload[position] ^= 0x80
    with pytest.raises(SafetyNumberMismatchError):
        check_scanned(BOB, ALICE, bytes(payload))


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        bytes([QR_VERSION]),
        qr_payload(ALICE, BOB)[:-1],
        qr_payload(ALICE, BOB) + b"\x00",
        bytes([QR_VERSION]) + bytes(32),
    ],
    ids=["empty", "version only", "truncated", "trailing byte", "one fingerprint"],
)
def test_malformed_payload_is_refused(payload: bytes) -> None:
    with pytest.raises(SafetyNumberPayloadError) as caught:
        check_scanned(BOB, ALICE, payload)
    assert caught.value.code == "safety_number_payload"
    assert isinstance(caught.value, DecodeError)


@pytest.mark.parametrize("version", [0, 2, 0xFF])
def test_unknown_version_is_refused(version: int) -> None:
    payload = bytes([version]) + qr_payload(ALICE, BOB)[1:]
    with pytest.raises(SafetyNumberVersionError) as caught:
        check_scanned(BOB, ALICE, payload)
    assert caught.value.code == "safety_number_version"
    assert isinstance(caught.value, UnsupportedError)


def test_text_from_a_generic_qr_code_is_refused() -> None:
    with pytest.raises(ProtocolError):
        check_scanned(BOB, ALICE, b"https://example.org/")


def test_error_codes_are_distinct_and_stable() -> None:
    codes = {
        SafetyNumberMismatchError.code,
        SafetyNumberPayloadError.code,
        SafetyNumberVersionError.code,
    }
    assert codes == {"safety_number_mismatch", "safety_number_payload", "safety_number_version"}
