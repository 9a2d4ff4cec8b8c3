"""Safety numbers: two colleagues check out of band that each sees the other's real device
key (after Signal's numeric fingerprints; threat model A1, where a device that a compromised
coordinator issued *and logged* is otherwise accepted).

A credential binds a device id to a signature key under the platform root's signature, so
the directory can only be as honest as the root. Comparing a safety number, read aloud or by
scanning a QR code in person, checks the key without trusting the root or the relay.

Per device (:func:`device_fingerprint`)::

    h_0     = opaque("casecircle 1 SafetyNumber") || uint16(version)
              || opaque(signature_key) || device_id[16]
    h_i     = SHA-512(h_{i-1} || signature_key)           for i = 1 .. 5200
    digits  = for each of the first six 5-byte chunks c of h_5200:
              format(uint40(c) mod 100000, 5 digits)       (30 digits, ~99.7 bits)

Per pair (:func:`safety_number`): both devices' 30 digits, the lower first, so both sides
compute the same 60 digits; :meth:`SafetyNumber.format` shows them as 12 blocks of 5.

QR code (:func:`qr_payload`, :func:`check_scanned`)::

    uint8 version; opaque shower[32]; opaque scanner[32];   (65 bytes)

``shower`` and ``scanner`` are the first 32 bytes of the fingerprints of the device that
shows the code and of the device it is shown to. The scanner expects its peer's fingerprint
first and its own second, so one comparison checks both keys, and a code shown for another
colleague (or its own code, mirrored back) does not pass.

Why 5,200 rounds: an attacker who makes keys (a rogue coordinator issuing a ghost device)
can grind keys until the digits a hurried person compares match. People often check only a
few blocks; each round multiplies the attacker's work by 5,200 (about 2^12.3) at a cost of
a few milliseconds to us. It is Signal's count, which keeps the cost on a phone negligible.
The full 30 digits per device are out of reach to grind either way.

The member id is not hashed: the root's signed credential already binds the device id to
its member, and what a safety number checks is the key behind the device id.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass

from protocol.codec import Writer
from protocol.directory import DeviceCredential
from protocol.errors import DecodeError, UnsupportedError, ValidationError

FINGERPRINT_LABEL = b"casecircle 1 SafetyNumber"
FINGERPRINT_VERSION = 1
"""Hashed into every fingerprint; a new version changes every safety number."""
QR_VERSION = 1
"""The first byte of a QR payload."""
ITERATIONS = 5200
DIGEST_SIZE = 64
DEVICE_DIGITS = 30
CHUNK_BYTES = 5
CHUNK_DIGITS = 5
QR_FINGERPRINT_SIZE = 32
QR_PAYLOAD_SIZE = 1 + 2 * QR_FINGERPRINT_SIZE
SAFETY_NUMBER_DIGITS = 2 * DEVICE_DIGITS


class SafetyNumberMismatchError(ValidationError):
    """A scanned code does not match the two devices' keys: the peer's key is not the one
    this device knows, or the code was made for another pair of devices."""

    code = "safety_number_mismatch"


class SafetyNumberPayloadError(DecodeError):
    """A scanned code is not a safety-number payload (wrong length, or empty)."""

    code = "safety_number_payload"


class SafetyNumberVersionError(UnsupportedError):
    """A scanned code is of a safety-number version this client does not know, so the peer
    must update before the devices can be compared."""

    code = "safety_number_version"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceFingerprint:
    """One device's iterated SHA-512 fingerprint (see the module docstring)."""

    digest: bytes

    def __post_init__(self) -> None:
        if len(self.digest) != DIGEST_SIZE:
            raise ValueError(f"a fingerprint is {DIGEST_SIZE} bytes")

    @property
    def digits(self) -> str:
        """The 30 digits people compare: six chunks of 5 bytes, each mod 100000."""
        chunks = (
            int.from_bytes(self.digest[i : i + CHUNK_BYTES], "big") % 10**CHUNK_DIGITS
            for i in range(0, DEVICE_DIGITS // CHUNK_DIGITS * CHUNK_BYTES, CHUNK_BYTES)
        )
        return "".join(f"{chunk:0{CHUNK_DIGITS}d}" for chunk in chunks)

    @property
    def qr_prefix(self) -> bytes:
        """The part a QR code carries: 256 bits, more than people can compare by eye."""
        return self.digest[:QR_FINGERPRINT_SIZE]


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyNumber:
    """The 60 digits two devices show for each other: the same on both sides."""

    digits: str

    def __post_init__(self) -> None:
        if len(self.digits) != SAFETY_NUMBER_DIGITS or not (
            self.digits.isascii() and self.digits.isdigit()
        ):
            raise ValueError(f"a safety number is {SAFETY_NUMBER_DIGITS} ASCII digits")

    @property
    def blocks(self) -> tuple[str, ...]:
        """12 blocks of 5 digits, for a UI that lays them out in a grid."""
        return tuple(
            self.digits[i : i + CHUNK_DIGITS] for i in range(0, len(self.digits), CHUNK_DIGITS)
        )

    def format(self) -> str:
        """The blocks separated by single spaces, as read aloud."""
        return " ".join(self.blocks)


def device_fingerprint(credential: DeviceCredential) -> DeviceFingerprint:
    """The fingerprint of ``credential``'s signature key and device id."""
    return DeviceFingerprint(
        digest=_fingerprint_digest(bytes(credential.signature_key), bytes(credential.device_id))
    )


@functools.lru_cache(maxsize=64)
def _fingerprint_digest(key: bytes, device_id: bytes) -> bytes:
    """The iterated hash, kept for the last devices asked about: a safety number and its QR
    code each need both devices' fingerprints, and the hashing is slow on purpose."""
    w = Writer()
    w.opaque(FINGERPRINT_LABEL)
    w.uint16(FINGERPRINT_VERSION)
    w.opaque(key)
    w.fixed(device_id)
    digest = w.getvalue()
    for _ in range(ITERATIONS):
        digest = hashlib.sha512(digest + key).digest()
    return digest


def safety_number(own: DeviceCredential, peer: DeviceCredential) -> SafetyNumber:
    """The safety number of two devices; the same whichever of them computes it."""
    first, second = sorted((device_fingerprint(own).digits, device_fingerprint(peer).digits))
    return SafetyNumber(digits=first + second)


def qr_payload(own: DeviceCredential, peer: DeviceCredential) -> bytes:
    """What ``own`` shows in a QR code for ``peer`` to scan with :func:`check_scanned`."""
    return (
        bytes([QR_VERSION]) + device_fingerprint(own).qr_prefix + device_fingerprint(peer).qr_prefix
    )


def check_scanned(own: DeviceCredential, peer: DeviceCredential, payload: bytes) -> None:
    """Check a code that ``own`` scanned from ``peer``'s screen; return only if it matches.

    Raises :class:`SafetyNumberPayloadError` for bytes that are no safety-number payload,
    :class:`SafetyNumberVersionError` for another version, and
    :class:`SafetyNumberMismatchError` when the keys differ or the code was made for
    another pair (including ``own``'s own code).
    """
    payload = bytes(payload)
    if not payload:
        raise SafetyNumberPayloadError("the scanned code is empty")
    if payload[0] != QR_VERSION:
        raise SafetyNumberVersionError(f"safety-number version {payload[0]} is not supported")
    if len(payload) != QR_PAYLOAD_SIZE:
        raise SafetyNumberPayloadError(
            f"a safety-number code is {QR_PAYLOAD_SIZE} bytes, not {len(payload)}"
        )
    if not hmac.compare_digest(payload, qr_payload(peer, own)):
        raise SafetyNumberMismatchError("the scanned safety number does not match")
