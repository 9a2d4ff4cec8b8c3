"""DESIGN §5–§6: the directory statements the platform root signs, and the log entries that
carry them.

::

    struct {
        opaque platform_id<V>;       /* SHA-256 of the root public key (the pinned fingerprint) */
        opaque member_id[16];
        opaque device_id[16];
        opaque display_name<V>;      /* UTF-8, 1..128 bytes, safe text */
        opaque organisation<V>;      /* UTF-8, 1..128 bytes, safe text */
        opaque role<V>;              /* UTF-8, 0..64 bytes, safe text */
        opaque signature_key<V>;     /* the device's MLS signature public key */
        uint16 cipher_suite;         /* the suite signature_key belongs to */
        uint64 not_before;           /* seconds since the Unix epoch, both ends included */
        uint64 not_after;
        opaque invite_id[16];        /* the invite the device was enrolled with */
    } DeviceCredential;

    struct { DeviceCredential credential; opaque signature<V>; } SignedDeviceCredential;

    enum { unspecified(0), device_lost(1), key_compromise(2), member_left(3),
           superseded(4), (255) } RevocationReason;

    struct {
        opaque platform_id<V>;
        opaque device_id[16];
        opaque member_id[16];
        uint64 revoked_at;
        RevocationReason reason;
    } Revocation;

    struct { Revocation revocation; opaque signature<V>; } SignedRevocation;

    enum { credential(1), revocation(2), (255) } LogEntryType;

    struct {
        LogEntryType entry_type;
        select (LogEntry.entry_type) {
            case credential: SignedDeviceCredential;
            case revocation: SignedRevocation;
        };
    } LogEntry;                      /* its encoding is the Merkle leaf data */

The root signs ``opaque("casecircle 1 " + label) || opaque(content)`` with Ed25519, labels
"DeviceCredential" and "Revocation" (:mod:`protocol.statements`), so neither statement can
stand in for the other, nor for any MLS signature.

Parse is not trust: decoding checks the format only (:class:`~protocol.errors.DecodeError`),
and ``signed.credential`` of a decoded statement is unverified. Only the verify functions
return statements to act on; they check, in order, the root's signature, that
``platform_id`` is the root's fingerprint, the field rules of :func:`check_device_credential`
(safe text against display-name spoofing, ATTACKS C8; a usable signature key), and for
:func:`verify_device_credential` the validity window at ``now``. The same field rules run
before the root signs, so a credential that breaks them is never issued.

A revocation names a device for good: it has no validity window and no unknown reason
weakens it (an unknown ``reason`` decodes as a plain ``int``). It revokes every credential
of its platform with its ``device_id`` (device ids are never reused), whatever the member.

Whether a credential is in the transparency log is checked with
:mod:`protocol.transparency` on :meth:`LogEntry.leaf_hash`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Self

from crypto.errors import InvalidKeyError, InvalidSignatureError, UnsupportedCipherSuiteError
from crypto.signatures import SigningKey
from crypto.suites import cipher_suite
from protocol.codec import Reader, Struct, Writer
from protocol.errors import DecodeError, ValidationError
from protocol.mls.credentials import BasicCredential, Credential
from protocol.statements import sign_statement, statement_hash, verify_statement
from protocol.transparency import leaf_hash

DEVICE_CREDENTIAL_LABEL = "DeviceCredential"
REVOCATION_LABEL = "Revocation"

ID_SIZE = 16
"""member ids, device ids and invite ids are 16 random bytes."""

COORDINATOR_ROLE = "coordinator"
"""The role of the coordinator's own devices. Only the platform root issues credentials, so
only the root makes a coordinator: the relay lets such a device manage enrolments and send
the coordinator's external proposals, and members' clients check that an external proposal
is signed by a device the root certified in this role."""

MAX_DISPLAY_NAME_BYTES = 128
MAX_ORGANISATION_BYTES = 128
MAX_ROLE_BYTES = 64
MAX_COMBINING_RUN = 4
"""At most this many combining marks in a row: enough for any script, too few to smear a
name over its neighbours on screen."""


# --- errors -------------------------------------------------------------------------------


class DirectoryError(ValidationError):
    """A directory statement fails a check."""

    code = "directory"


class DirectoryFieldError(DirectoryError):
    """A field breaks a directory rule (a length, an empty name, an inverted window)."""

    code = "directory_field"


class UnsafeTextError(DirectoryFieldError):
    """Displayed text holds control, format (bidi, zero-width), private-use, unassigned or
    unusual space characters, or is not in NFC (ATTACKS C8)."""

    code = "unsafe_text"


class CredentialKeyError(DirectoryError):
    """The certified signature key is not a valid key of the certified cipher suite (or the
    suite is not supported)."""

    code = "credential_key"


class CredentialSignatureError(DirectoryError):
    """A device credential is not signed by the platform root."""

    code = "credential_signature"


class CredentialPlatformError(DirectoryError):
    """A device credential names another platform than the root's."""

    code = "credential_platform"


class CredentialExpiredError(DirectoryError):
    """``now`` is after the credential's ``not_after``."""

    code = "credential_expired"


class CredentialNotYetValidError(DirectoryError):
    """``now`` is before the credential's ``not_before``."""

    code = "credential_not_yet_valid"


class CredentialTypeError(DirectoryError):
    """An MLS credential is not the basic credential a casecircle device presents."""

    code = "credential_type"


class CredentialKeyMismatchError(DirectoryError):
    """An MLS leaf presents a credential certifying another key or cipher suite (A3, A4)."""

    code = "credential_key_mismatch"


class DeviceRevokedError(DirectoryError):
    """The platform root has revoked the credential's device."""

    code = "device_revoked"


class RevocationSignatureError(DirectoryError):
    """A revocation is not signed by the platform root."""

    code = "revocation_signature"


class RevocationPlatformError(DirectoryError):
    """A revocation names another platform than the root's."""

    code = "revocation_platform"


# --- helpers ------------------------------------------------------------------------------


def platform_fingerprint(root_public_key: bytes) -> bytes:
    """The platform id: SHA-256 of the root's public key, the value every device pins."""
    return statement_hash(root_public_key)


def _check_id(value: bytes, name: str) -> None:
    if len(value) != ID_SIZE:
        raise ValueError(f"{name} must be {ID_SIZE} bytes")


def _check_text(value: str, name: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} cannot be encoded as UTF-8") from None


def _check_uint(value: int, bits: int, name: str) -> None:
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{name} must be a uint{bits}")


def _read_text(r: Reader, name: str) -> str:
    raw = r.opaque()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError(f"{name} is not UTF-8") from None


_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_COMBINING_CATEGORIES = frozenset({"Mn", "Me"})


def check_display_text(value: str, name: str, max_bytes: int, *, required: bool = True) -> None:
    """Raise :class:`UnsafeTextError` or :class:`DirectoryFieldError` unless ``value`` is
    text every client can show as it is (ATTACKS C8).

    Refused: control characters (C0, C1, DEL), format characters (bidi embeddings, overrides
    and isolates, LRM/RLM/ALM, zero-width characters and joiners, the BOM, tag characters,
    soft hyphen), surrogates, private-use and unassigned code points, line and paragraph
    separators, any space but U+0020, leading, trailing or doubled spaces, runs of more
    than :data:`MAX_COMBINING_RUN` combining marks, and text not in NFC (so one name has one
    encoding). Look-alike letters from other scripts remain possible: a member is named to
    others by the certified ids and organisation, never by the display name alone.
    """
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise UnsafeTextError(f"{name} holds a lone surrogate") from None
    if required and not value:
        raise DirectoryFieldError(f"{name} is empty")
    if size > max_bytes:
        raise DirectoryFieldError(f"{name} is {size} bytes, at most {max_bytes} allowed")
    if value != value.strip(" ") or "  " in value:
        raise UnsafeTextError(f"{name} has leading, trailing or doubled spaces")
    if not unicodedata.is_normalized("NFC", value):
        raise UnsafeTextError(f"{name} is not in Unicode normalisation form C")
    combining_run = 0
    for char in value:
        category = unicodedata.category(char)
        if category in _UNSAFE_CATEGORIES or (category == "Zs" and char != " "):
            raise UnsafeTextError(f"{name} contains U+{ord(char):04X} ({category})")
        combining_run = combining_run + 1 if category in _COMBINING_CATEGORIES else 0
        if combining_run > MAX_COMBINING_RUN:
            raise UnsafeTextError(f"{name} stacks more than {MAX_COMBINING_RUN} combining marks")


# --- device credentials -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceCredential(Struct):
    """What the platform root certifies about one device (see the module docstring).

    Building or decoding one checks only its format; :func:`check_device_credential` holds
    the directory's rules, which signing and verification apply.
    """

    platform_id: bytes
    member_id: bytes
    device_id: bytes
    display_name: str
    organisation: str
    role: str
    signature_key: bytes
    cipher_suite: int
    not_before: int
    not_after: int
    invite_id: bytes

    def __post_init__(self) -> None:
        _check_id(self.member_id, "member_id")
        _check_id(self.device_id, "device_id")
        _check_id(self.invite_id, "invite_id")
        _check_text(self.display_name, "display_name")
        _check_text(self.organisation, "organisation")
        _check_text(self.role, "role")
        _check_uint(self.cipher_suite, 16, "cipher_suite")
        _check_uint(self.not_before, 64, "not_before")
        _check_uint(self.not_after, 64, "not_after")

    def encode(self, w: Writer) -> None:
        w.opaque(self.platform_id)
        w.fixed(self.member_id)
        w.fixed(self.device_id)
        w.opaque(self.display_name.encode("utf-8"))
        w.opaque(self.organisation.encode("utf-8"))
        w.opaque(self.role.encode("utf-8"))
        w.opaque(self.signature_key)
        w.uint16(self.cipher_suite)
        w.uint64(self.not_before)
        w.uint64(self.not_after)
        w.fixed(self.invite_id)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            platform_id=r.opaque(),
            member_id=r.fixed(ID_SIZE),
            device_id=r.fixed(ID_SIZE),
            display_name=_read_text(r, "display_name"),
            organisation=_read_text(r, "organisation"),
            role=_read_text(r, "role"),
            signature_key=r.opaque(),
            cipher_suite=r.uint16(),
            not_before=r.uint64(),
            not_after=r.uint64(),
            invite_id=r.fixed(ID_SIZE),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedDeviceCredential(Struct):
    """A device credential and the root's signature; ``credential`` is unverified here."""

    credential: DeviceCredential
    signature: bytes

    def encode(self, w: Writer) -> None:
        self.credential.encode(w)
        w.opaque(self.signature)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(credential=DeviceCredential.decode(r), signature=r.opaque())


def check_device_credential(credential: DeviceCredential) -> None:
    """The directory's rules for a credential, short of signature, platform and time:
    safe, bounded names; a supported suite and a valid key of it; not_before <= not_after."""
    check_display_text(credential.display_name, "display_name", MAX_DISPLAY_NAME_BYTES)
    check_display_text(credential.organisation, "organisation", MAX_ORGANISATION_BYTES)
    check_display_text(credential.role, "role", MAX_ROLE_BYTES, required=False)
    if credential.not_before > credential.not_after:
        raise DirectoryFieldError("not_before is after not_after")
    try:
        suite = cipher_suite(credential.cipher_suite)
        suite.signature.validate_public_key(credential.signature_key)
    except (UnsupportedCipherSuiteError, InvalidKeyError) as exc:
        raise CredentialKeyError(f"certified signature key cannot be used: {exc}") from exc


def sign_device_credential(
    root_key: SigningKey, credential: DeviceCredential
) -> SignedDeviceCredential:
    """Issue ``credential``: check it as a verifier would, then sign it with the root."""
    if credential.platform_id != platform_fingerprint(root_key.public_key):
        raise CredentialPlatformError("credential names another platform than this root's")
    check_device_credential(credential)
    signature = sign_statement(root_key, DEVICE_CREDENTIAL_LABEL, credential.to_bytes())
    return SignedDeviceCredential(credential=credential, signature=signature)


def _verified_credential(
    root_public_key: bytes, signed: SignedDeviceCredential
) -> DeviceCredential:
    credential = signed.credential
    try:
        verify_statement(
            root_public_key, DEVICE_CREDENTIAL_LABEL, credential.to_bytes(), signed.signature
        )
    except InvalidSignatureError as exc:
        raise CredentialSignatureError("credential is not signed by the platform root") from exc
    if credential.platform_id != platform_fingerprint(root_public_key):
        raise CredentialPlatformError("credential names another platform than the root's")
    check_device_credential(credential)
    return credential


def verify_device_credential(
    root_public_key: bytes, signed: SignedDeviceCredential, *, now: int
) -> DeviceCredential:
    """The credential, if it chains to the pinned root and is valid at ``now`` (seconds
    since the Unix epoch); otherwise a :class:`DirectoryError`. Revocation and log inclusion
    are the caller's further checks (:func:`check_not_revoked`, :mod:`protocol.transparency`).
    """
    credential = _verified_credential(root_public_key, signed)
    if now < credential.not_before:
        raise CredentialNotYetValidError(f"credential is valid from {credential.not_before}")
    if now > credential.not_after:
        raise CredentialExpiredError(f"credential expired at {credential.not_after}")
    return credential


# --- the credential inside MLS ------------------------------------------------------------


def mls_credential(signed: SignedDeviceCredential) -> BasicCredential:
    """The MLS credential of the device's leaves (RFC 9420 §5.3).

    The MLS credential carries the coordinator-signed statement itself — the basic
    credential's ``identity`` is the encoded :class:`SignedDeviceCredential` — so any member
    can check that a leaf chains to the pinned platform root without asking anyone.
    """
    return BasicCredential(identity=signed.to_bytes())


def parse_mls_credential(credential: Credential) -> SignedDeviceCredential:
    """The (unverified) statement inside a leaf's credential; :class:`CredentialTypeError`
    if it is not a basic credential, ``DecodeError`` if its identity is not a statement."""
    if not isinstance(credential, BasicCredential):
        raise CredentialTypeError(f"credential type {credential.credential_type} is not basic")
    return SignedDeviceCredential.from_bytes(credential.identity)


def verify_mls_credential(
    root_public_key: bytes,
    credential: Credential,
    *,
    signature_key: bytes,
    cipher_suite: int,
    now: int,
) -> DeviceCredential:
    """Verify the credential of an MLS leaf whose signature key is ``signature_key`` in a
    group of ``cipher_suite``: the statement must chain to the root, be valid at ``now``,
    and certify exactly that key for exactly that suite (A3, A4)."""
    verified = verify_device_credential(root_public_key, parse_mls_credential(credential), now=now)
    if verified.cipher_suite != cipher_suite:
        raise CredentialKeyMismatchError(
            f"credential certifies a key of suite 0x{verified.cipher_suite:04x}, "
            f"the group uses 0x{cipher_suite:04x}"
        )
    if verified.signature_key != signature_key:
        raise CredentialKeyMismatchError("credential certifies another signature key")
    return verified


# --- revocations --------------------------------------------------------------------------


class RevocationReason(IntEnum):
    """Why a device was revoked; informative only, every reason revokes alike."""

    UNSPECIFIED = 0
    DEVICE_LOST = 1
    KEY_COMPROMISE = 2
    MEMBER_LEFT = 3
    SUPERSEDED = 4


def _reason(value: int) -> RevocationReason | int:
    try:
        return RevocationReason(value)
    except ValueError:
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Revocation(Struct):
    """The root's statement that a device is revoked from ``revoked_at`` on, for good."""

    platform_id: bytes
    device_id: bytes
    member_id: bytes
    revoked_at: int
    reason: RevocationReason | int = RevocationReason.UNSPECIFIED

    def __post_init__(self) -> None:
        _check_id(self.device_id, "device_id")
        _check_id(self.member_id, "member_id")
        _check_uint(self.revoked_at, 64, "revoked_at")
        _check_uint(self.reason, 8, "reason")

    def revokes(self, credential: DeviceCredential) -> bool:
        """Whether this revocation applies to ``credential``: same platform, same device."""
        return (self.platform_id, self.device_id) == (credential.platform_id, credential.device_id)

    def encode(self, w: Writer) -> None:
        w.opaque(self.platform_id)
        w.fixed(self.device_id)
        w.fixed(self.member_id)
        w.uint64(self.revoked_at)
        w.uint8(self.reason)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            platform_id=r.opaque(),
            device_id=r.fixed(ID_SIZE),
            member_id=r.fixed(ID_SIZE),
            revoked_at=r.uint64(),
            reason=_reason(r.uint8()),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedRevocation(Struct):
    """A revocation and the root's signature; ``revocation`` is unverified here."""

    revocation: Revocation
    signature: bytes

    def encode(self, w: Writer) -> None:
        self.revocation.encode(w)
        w.opaque(self.signature)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(revocation=Revocation.decode(r), signature=r.opaque())


def sign_revocation(root_key: SigningKey, revocation: Revocation) -> SignedRevocation:
    """Sign ``revocation`` with the platform root."""
    if revocation.platform_id != platform_fingerprint(root_key.public_key):
        raise RevocationPlatformError("revocation names another platform than this root's")
    signature = sign_statement(root_key, REVOCATION_LABEL, revocation.to_bytes())
    return SignedRevocation(revocation=revocation, signature=signature)


def verify_revocation(root_public_key: bytes, signed: SignedRevocation) -> Revocation:
    """The revocation, if the pinned root signed it for its own platform."""
    revocation = signed.revocation
    try:
        verify_statement(root_public_key, REVOCATION_LABEL, revocation.to_bytes(), signed.signature)
    except InvalidSignatureError as exc:
        raise RevocationSignatureError("revocation is not signed by the platform root") from exc
    if revocation.platform_id != platform_fingerprint(root_public_key):
        raise RevocationPlatformError("revocation names another platform than the root's")
    return revocation


def check_not_revoked(credential: DeviceCredential, revocations: Iterable[Revocation]) -> None:
    """Raise :class:`DeviceRevokedError` if a (verified) revocation applies to ``credential``."""
    for revocation in revocations:
        if revocation.revokes(credential):
            raise DeviceRevokedError(f"device revoked at {revocation.revoked_at}")


# --- log entries --------------------------------------------------------------------------


class LogEntryType(IntEnum):
    """What a log entry carries."""

    CREDENTIAL = 1
    REVOCATION = 2


Statement = SignedDeviceCredential | SignedRevocation

_ENTRY_TYPES: dict[type[Struct], LogEntryType] = {
    SignedDeviceCredential: LogEntryType.CREDENTIAL,
    SignedRevocation: LogEntryType.REVOCATION,
}
_ENTRY_DECODERS: dict[int, Callable[[Reader], Statement]] = {
    LogEntryType.CREDENTIAL: SignedDeviceCredential.decode,
    LogEntryType.REVOCATION: SignedRevocation.decode,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry(Struct):
    """One entry of the transparency log: an issuance or a revocation, as signed."""

    statement: Statement

    @property
    def entry_type(self) -> LogEntryType:
        return _ENTRY_TYPES[type(self.statement)]

    def encode(self, w: Writer) -> None:
        w.uint8(self.entry_type)
        self.statement.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        entry_type = r.uint8()
        decoder = _ENTRY_DECODERS.get(entry_type)
        if decoder is None:
            raise DecodeError(f"unknown log entry type {entry_type}")
        return cls(statement=decoder(r))

    def leaf_hash(self) -> bytes:
        """The entry's Merkle leaf hash: SHA-256(0x00 || encoding)."""
        return leaf_hash(self.to_bytes())


def verify_log_entry(root_public_key: bytes, entry: LogEntry) -> DeviceCredential | Revocation:
    """What the entry states, if the root signed it for its platform and it keeps the field
    rules. Validity windows are not checked: the log keeps credentials that have expired.
    This is the auditor's check of every entry."""
    match entry.statement:
        case SignedDeviceCredential() as signed:
            return _verified_credential(root_public_key, signed)
        case SignedRevocation() as signed:
            return verify_revocation(root_public_key, signed)
