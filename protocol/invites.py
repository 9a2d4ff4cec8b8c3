"""DESIGN §5: invites and enrolment requests — how a new device proves it holds an invite
without the relay ever learning the invite code.

The coordinator gives a member a one-time **invite code** out of band (as words or a QR
code)::

    struct {
        opaque secret[16];               /* 128 random bits: the invite's only secret */
        opaque platform_prefix[16];      /* first 16 bytes of the platform fingerprint */
    } InviteCode;                        /* 32 bytes: 24 BIP-39 words with their checksum */

From the secret both sides derive, with HKDF-SHA-256 (the platform's fixed algorithms,
:mod:`protocol.statements`)::

    prk       = HKDF-Extract(salt = "", ikm = secret)
    invite_id = HKDF-Expand(prk, "casecircle 1 InviteId", 16)   /* told to the relay */
    mac_key   = HKDF-Expand(prk, "casecircle 1 InviteMac", 32)  /* never leaves either side */

The device pins the platform root: the relay's ``/v1/platform`` answer is accepted only if
the root key's fingerprint starts with ``platform_prefix`` (128 bits: finding another root
key with that prefix is a second-preimage search on SHA-256). It then sends, through the
relay, an **enrolment request**::

    struct {
        opaque invite_id[16];
        opaque device_id[16];            /* random, chosen by the device */
        uint16 cipher_suite;
        opaque signature_key<V>;         /* the device's MLS signature public key */
        uint64 requested_at;
        opaque possession<V>;            /* SignWithLabel(device key, "casecircle enrolment",
                                            EnrolmentTBS) */
        opaque mac[32];                  /* HMAC-SHA-256(mac_key, EnrolmentTBS || possession) */
    } EnrolmentRequest;

    EnrolmentTBS = invite_id || device_id || uint16 cipher_suite
                   || opaque signature_key<V> || uint64 requested_at

The MAC proves the request came from someone holding the invite code (so the relay cannot
enrol a device of its own under someone's invite); the possession signature proves the
requester holds the private key it asks to have certified. The coordinator's client checks
both (:func:`verify_enrolment_request`) before the root signs anything.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Self

from crypto.errors import CryptoError, InvalidSignatureError, UnsupportedCipherSuiteError
from crypto.labels import sign_with_label, verify_with_label
from crypto.random import RandomSource
from crypto.signatures import SigningKey
from crypto.suites import cipher_suite
from protocol.codec import Reader, Struct, Writer
from protocol.directory import ID_SIZE, platform_fingerprint
from protocol.errors import DecodeError, ValidationError
from protocol.statements import PLATFORM_SUITE

INVITE_SECRET_SIZE = 16
PLATFORM_PREFIX_SIZE = 16
INVITE_CODE_SIZE = INVITE_SECRET_SIZE + PLATFORM_PREFIX_SIZE
MAC_SIZE = 32
POSSESSION_LABEL = "casecircle enrolment"
MAX_REQUEST_AGE = 7 * 24 * 3600
"""An enrolment request older than this (by its own clock) is refused: a stale request is
one the member no longer expects to be approved."""
MAX_CLOCK_SKEW = 600


class InviteError(ValidationError):
    """An invite code or an enrolment request fails a check."""

    code = "invite"


class InviteCodeError(InviteError):
    """The invite code is malformed (wrong length, or words that do not decode)."""

    code = "invite_code"


class PlatformMismatchError(InviteError):
    """The platform root the relay names is not the one the invite code pins."""

    code = "platform_mismatch"


class InviteMismatchError(InviteError):
    """The enrolment request names another invite than the one it is checked against."""

    code = "invite_mismatch"


class InviteMacError(InviteError):
    """The request's MAC does not verify: it was not made with this invite's code."""

    code = "invite_mac"


class PossessionError(InviteError):
    """The request's possession signature does not verify under the key it names."""

    code = "possession"


class EnrolmentTimeError(InviteError):
    """The request is dated too far in the past or the future."""

    code = "enrolment_time"


def _prk(secret: bytes) -> bytes:
    return PLATFORM_SUITE.extract(b"", secret)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class InviteCode:
    """What the member receives out of band. Its ``secret`` is a password: never logged."""

    secret: bytes
    platform_prefix: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != INVITE_SECRET_SIZE:
            raise InviteCodeError(f"an invite secret is {INVITE_SECRET_SIZE} bytes")
        if len(self.platform_prefix) != PLATFORM_PREFIX_SIZE:
            raise InviteCodeError(f"a platform prefix is {PLATFORM_PREFIX_SIZE} bytes")

    def __repr__(self) -> str:
        return f"InviteCode(invite_id={self.invite_id.hex()}, secret=<redacted>)"

    @classmethod
    def generate(cls, root_public_key: bytes, rng: RandomSource) -> Self:
        return cls(
            secret=rng.random_bytes(INVITE_SECRET_SIZE),
            platform_prefix=platform_fingerprint(root_public_key)[:PLATFORM_PREFIX_SIZE],
        )

    def to_bytes(self) -> bytes:
        return self.secret + self.platform_prefix

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        if len(data) != INVITE_CODE_SIZE:
            raise InviteCodeError(f"an invite code is {INVITE_CODE_SIZE} bytes")
        return cls(secret=data[:INVITE_SECRET_SIZE], platform_prefix=data[INVITE_SECRET_SIZE:])

    @property
    def invite_id(self) -> bytes:
        return PLATFORM_SUITE.expand(_prk(self.secret), b"casecircle 1 InviteId", ID_SIZE)

    @property
    def mac_key(self) -> bytes:
        return PLATFORM_SUITE.expand(_prk(self.secret), b"casecircle 1 InviteMac", MAC_SIZE)

    def check_platform(self, root_public_key: bytes) -> None:
        """Pin the root: ``PlatformMismatchError`` unless this invite names it."""
        prefix = platform_fingerprint(root_public_key)[:PLATFORM_PREFIX_SIZE]
        if not hmac.compare_digest(prefix, self.platform_prefix):
            raise PlatformMismatchError(
                "the relay's platform root is not the one this invite was made for"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrolmentRequest(Struct):
    """A device's request to be certified; parse is not trust: :func:`verify_enrolment_request`."""

    invite_id: bytes
    device_id: bytes
    cipher_suite: int
    signature_key: bytes
    requested_at: int
    possession: bytes
    mac: bytes

    def __post_init__(self) -> None:
        if len(self.invite_id) != ID_SIZE or len(self.device_id) != ID_SIZE:
            raise DecodeError(f"invite and device ids are {ID_SIZE} bytes")
        if len(self.mac) != MAC_SIZE:
            raise DecodeError(f"an enrolment MAC is {MAC_SIZE} bytes")
        if not 0 <= self.cipher_suite <= 0xFFFF or not 0 <= self.requested_at < 2**64:
            raise DecodeError("cipher_suite or requested_at out of range")

    def encode(self, w: Writer) -> None:
        w.fixed(self.invite_id)
        w.fixed(self.device_id)
        w.uint16(self.cipher_suite)
        w.opaque(self.signature_key)
        w.uint64(self.requested_at)
        w.opaque(self.possession)
        w.fixed(self.mac)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            invite_id=r.fixed(ID_SIZE),
            device_id=r.fixed(ID_SIZE),
            cipher_suite=r.uint16(),
            signature_key=r.opaque(),
            requested_at=r.uint64(),
            possession=r.opaque(),
            mac=r.fixed(MAC_SIZE),
        )

    def to_be_signed(self) -> bytes:
        return _tbs(
            self.invite_id, self.device_id, self.cipher_suite, self.signature_key, self.requested_at
        )


def _tbs(
    invite_id: bytes, device_id: bytes, suite_id: int, signature_key: bytes, requested_at: int
) -> bytes:
    w = Writer()
    w.fixed(invite_id)
    w.fixed(device_id)
    w.uint16(suite_id)
    w.opaque(signature_key)
    w.uint64(requested_at)
    return w.getvalue()


def make_enrolment_request(
    code: InviteCode, device_id: bytes, signing_key: SigningKey, suite_id: int, now: int
) -> EnrolmentRequest:
    """The request a device sends for ``code``, signed with the key it wants certified."""
    suite = cipher_suite(suite_id)
    tbs = _tbs(code.invite_id, device_id, suite_id, signing_key.public_key, now)
    possession = sign_with_label(suite, signing_key, POSSESSION_LABEL, tbs)
    return EnrolmentRequest(
        invite_id=code.invite_id,
        device_id=device_id,
        cipher_suite=suite_id,
        signature_key=signing_key.public_key,
        requested_at=now,
        possession=possession,
        mac=PLATFORM_SUITE.mac(code.mac_key, tbs + possession),
    )


def verify_enrolment_request(request: EnrolmentRequest, code: InviteCode, now: int) -> None:
    """Check a request against the invite it claims, in the order that leaks least: the
    invite id, the MAC (constant time), the date, then the possession signature."""
    if not hmac.compare_digest(request.invite_id, code.invite_id):
        raise InviteMismatchError("the request is for another invite")
    tbs = request.to_be_signed()
    expected = PLATFORM_SUITE.mac(code.mac_key, tbs + request.possession)
    if not hmac.compare_digest(expected, request.mac):
        raise InviteMacError("the request was not made with this invite's code")
    if not now - MAX_REQUEST_AGE <= request.requested_at <= now + MAX_CLOCK_SKEW:
        raise EnrolmentTimeError("the request is too old or dated in the future")
    try:
        suite = cipher_suite(request.cipher_suite)
        suite.signature.validate_public_key(request.signature_key)
        verify_with_label(suite, request.signature_key, POSSESSION_LABEL, tbs, request.possession)
    except (UnsupportedCipherSuiteError, InvalidSignatureError) as exc:
        raise PossessionError(f"the device does not prove its key: {exc}") from exc
    except CryptoError as exc:
        raise PossessionError(f"the requested key cannot be used: {exc}") from exc
