"""Directory statements: device credentials, revocations and log entries signed by the
platform root (DESIGN §5, §6; ATTACKS A1–A4, A7, C8).

Every rule gets a statement that breaks only that rule; where the rule is checked after
the signature, the statement is properly signed (``forge`` signs without the issuing
checks), so each test shows the rule itself firing, not a signature check that runs first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto.errors import InvalidKeyError
from crypto.labels import sign_with_label
from crypto.signatures import ECDSA_P256_SHA256, ED25519, SigningKey
from crypto.suites import cipher_suite
from protocol.codec import Writer
from protocol.directory import (
    DEVICE_CREDENTIAL_LABEL,
    MAX_COMBINING_RUN,
    MAX_DISPLAY_NAME_BYTES,
    MAX_ORGANISATION_BYTES,
    MAX_ROLE_BYTES,
    REVOCATION_LABEL,
    CredentialExpiredError,
    CredentialKeyError,
    CredentialKeyMismatchError,
    CredentialNotYetValidError,
    CredentialPlatformError,
    CredentialSignatureError,
    CredentialTypeError,
    DeviceCredential,
    DeviceRevokedError,
    DirectoryError,
    DirectoryFieldError,
    LogEntry,
    LogEntryType,
    Revocation,
    RevocationPlatformError,
    RevocationReason,
    RevocationSignatureError,
    SignedDeviceCredential,
    SignedRevocation,
    UnsafeTextError,
    check_display_text,
    check_not_revoked,
    mls_credential,
    parse_mls_credential,
    platform_fingerprint,
    sign_device_credential,
    sign_revocation,
    verify_device_credential,
    verify_log_entry,
    verify_mls_credential,
    verify_revocation,
)
from protocol.errors import DecodeError, ProtocolError, ValidationError
from protocol.mls.credentials import BasicCredential, X509Credential
from protocol.statements import sign_statement
from protocol.transparency import inclusion_proof, leaf_hash, merkle_root, verify_inclusion
from tests.helpers import DeterministicRandom

NOW = 1_750_000_000
YEAR = 365 * 24 * 3600


def key(seed: str) -> SigningKey:
    return ED25519.generate(DeterministicRandom(seed))


ROOT = key("platform root")
OTHER_ROOT = key("another platform's root")
DEVICE = key("device signature key")
PLATFORM_ID = platform_fingerprint(ROOT.public_key)


def credential(**changes: Any) -> DeviceCredential:
    base = DeviceCredential(
        platform_id=PLATFORM_ID,
        member_id=bytes(range(16)),
        device_id=bytes(range(16, 32)),
        display_name="Jana Nováková",
        organisation="Policie ČR — Praha 4",
        role="vyšetřovatelka",
        signature_key=DEVICE.public_key,
        cipher_suite=1,
        not_before=NOW - 3600,
        not_after=NOW + YEAR,
        invite_id=bytes(range(32, 48)),
    )
    return replace(base, **changes)


def forge(root: SigningKey, value: DeviceCredential) -> SignedDeviceCredential:
    """Signed by ``root`` without the issuing checks: what a rogue or buggy signer makes."""
    signature = sign_statement(root, DEVICE_CREDENTIAL_LABEL, value.to_bytes())
    return SignedDeviceCredential(credential=value, signature=signature)


def revocation(**changes: Any) -> Revocation:
    base = Revocation(
        platform_id=PLATFORM_ID,
        device_id=bytes(range(16, 32)),
        member_id=bytes(range(16)),
        revoked_at=NOW,
        reason=RevocationReason.DEVICE_LOST,
    )
    return replace(base, **changes)


# --- device credentials -------------------------------------------------------------------


def test_platform_id_is_the_sha256_fingerprint_of_the_root() -> None:
    assert PLATFORM_ID == cipher_suite(1).hash(ROOT.public_key)
    assert len(PLATFORM_ID) == 32


def test_credential_sign_verify_round_trip() -> None:
    signed = sign_device_credential(ROOT, credential())
    decoded = SignedDeviceCredential.from_bytes(signed.to_bytes())
    assert decoded == signed
    assert verify_device_credential(ROOT.public_key, decoded, now=NOW) == credential()


def test_validity_window_includes_both_ends() -> None:
    signed = sign_device_credential(ROOT, credential())
    value = signed.credential
    verify_device_credential(ROOT.public_key, signed, now=value.not_before)
    verify_device_credential(ROOT.public_key, signed, now=value.not_after)
    with pytest.raises(CredentialNotYetValidError) as early:
        verify_device_credential(ROOT.public_key, signed, now=value.not_before - 1)
    with pytest.raises(CredentialExpiredError) as late:
        verify_device_credential(ROOT.public_key, signed, now=value.not_after + 1)
    assert (early.value.code, late.value.code) == ("credential_not_yet_valid", "credential_expired")


CHANGED_FIELDS: dict[str, Any] = {
    "platform_id": PLATFORM_ID[:-1] + b"\x00",
    "member_id": bytes(16),
    "device_id": bytes(16),
    "display_name": "Jana Novakova",
    "organisation": "Policie ČR — Praha 5",
    "role": "vedoucí",
    "signature_key": key("substituted key").public_key,
    "cipher_suite": 3,
    "not_before": NOW - 3601,
    "not_after": NOW + YEAR + 1,
    "invite_id": bytes(16),
}


def test_every_field_is_covered_by_the_tamper_test() -> None:
    assert set(CHANGED_FIELDS) == {f.name for f in fields(DeviceCredential)}


@pytest.mark.parametrize(("name", "value"), CHANGED_FIELDS.items(), ids=list(CHANGED_FIELDS))
def test_every_tampered_credential_field_breaks_the_signature(name: str, value: Any) -> None:
    """A3/A4: swapping the key, the device or the member of a signed credential fails."""
    signed = sign_device_credential(ROOT, credential())
    tampered = replace(signed, credential=replace(signed.credential, **{name: value}))
    with pytest.raises(CredentialSignatureError) as caught:
        verify_device_credential(ROOT.public_key, tampered, now=NOW)
    assert caught.value.code == "credential_signature"


def test_every_flipped_bit_of_a_signed_credential_is_refused() -> None:
    encoded = sign_device_credential(ROOT, credential()).to_bytes()
    for i in range(len(encoded)):
        for bit in (0, 7):
            data = bytearray(encoded)
            data[i] ^= 1 << bit
            with pytest.raises(ProtocolError):
                signed = SignedDeviceCredential.from_bytes(bytes(data))
                verify_device_credential(ROOT.public_key, signed, now=NOW)


def test_credential_signed_by_another_root_is_refused() -> None:
    """A1/A2: a credential the relay (or anyone) signs with its own key is not a device."""
    theirs = sign_device_credential(
        OTHER_ROOT, credential(platform_id=platform_fingerprint(OTHER_ROOT.public_key))
    )
    with pytest.raises(CredentialSignatureError):
        verify_device_credential(ROOT.public_key, theirs, now=NOW)
    naming_ours = forge(OTHER_ROOT, credential())
    with pytest.raises(CredentialSignatureError):
        verify_device_credential(ROOT.public_key, naming_ours, now=NOW)


def test_credential_for_another_platform_is_refused() -> None:
    """A7: a root-signed statement naming another platform is not this platform's."""
    other_platform = forge(ROOT, credential(platform_id=bytes(32)))
    with pytest.raises(CredentialPlatformError) as caught:
        verify_device_credential(ROOT.public_key, other_platform, now=NOW)
    assert caught.value.code == "credential_platform"
    with pytest.raises(CredentialPlatformError):
        sign_device_credential(ROOT, credential(platform_id=bytes(32)))


def test_signatures_are_domain_separated() -> None:
    """A7: the same bytes signed for another purpose are not a credential."""
    content = credential().to_bytes()
    as_revocation = sign_statement(ROOT, REVOCATION_LABEL, content)
    as_mls = sign_with_label(cipher_suite(1), ROOT, DEVICE_CREDENTIAL_LABEL, content)
    bare = ROOT.sign(content)
    for signature in (as_revocation, as_mls, bare):
        signed = SignedDeviceCredential(credential=credential(), signature=signature)
        with pytest.raises(CredentialSignatureError):
            verify_device_credential(ROOT.public_key, signed, now=NOW)


def test_only_ed25519_roots_sign() -> None:
    p256 = ECDSA_P256_SHA256.generate(DeterministicRandom("p256 root"))
    with pytest.raises(InvalidKeyError):
        sign_device_credential(p256, credential(platform_id=platform_fingerprint(p256.public_key)))


def test_credential_errors_are_validation_errors_with_stable_codes() -> None:
    assert issubclass(DirectoryError, ValidationError)
    assert UnsafeTextError.code == "unsafe_text"
    assert issubclass(UnsafeTextError, DirectoryFieldError)


# --- displayed text (C8) ------------------------------------------------------------------

UNSAFE_NAMES = {
    "right-to-left override": "Jana\u202eávokávoN",
    "left-to-right override": "Jana\u202dNováková",
    "right-to-left embedding": "\u202bJana",
    "pop directional formatting": "Jana\u202c",
    "first strong isolate": "Jana \u2068Nováková\u2069",
    "right-to-left isolate": "\u2067Jana",
    "right-to-left mark": "Jana\u200f",
    "arabic letter mark": "Jana\u061c",
    "zero-width space": "Ja\u200bna",
    "zero-width joiner": "Ja\u200dna",
    "byte order mark": "\ufeffJana",
    "soft hyphen": "Ja\u00adna",
    "tag character": "Jana\U000e0041",
    "nul": "Jana\x00",
    "newline": "Jana\nNováková",
    "tab": "Jana\tNováková",
    "escape": "Jana\x1b[31m",
    "delete": "Jana\x7f",
    "c1 control": "Jana\x85",
    "line separator": "Jana\u2028",
    "paragraph separator": "Jana\u2029",
    "no-break space": "Jana\u00a0Nováková",
    "em space": "Jana\u2003Nováková",
    "ideographic space": "Jana\u3000Nováková",
    "private use": "Jana\ue000",
    "unassigned": "Jana\U0010fffe",
    "leading space": " Jana",
    "trailing space": "Jana ",
    "doubled space": "Jana  Nováková",
    "decomposed (not NFC)": "Jana Nova\u0301kova\u0301",
    "stacked combining marks": "Jaq" + "\u0301" * (MAX_COMBINING_RUN + 1),
}


@pytest.mark.parametrize("name", UNSAFE_NAMES.values(), ids=list(UNSAFE_NAMES))
def test_unsafe_display_names_are_never_signed_nor_accepted(name: str) -> None:
    with pytest.raises(UnsafeTextError):
        sign_device_credential(ROOT, credential(display_name=name))
    rogue = forge(ROOT, credential(display_name=name))
    with pytest.raises(UnsafeTextError):
        verify_device_credential(ROOT.public_key, rogue, now=NOW)


def test_text_that_cannot_be_encoded_cannot_be_built() -> None:
    with pytest.raises(UnsafeTextError):
        check_display_text("Jana\ud800", "display_name", MAX_DISPLAY_NAME_BYTES)
    with pytest.raises(ValueError, match="UTF-8"):
        credential(display_name="Jana\ud800")


@pytest.mark.parametrize("field", ["organisation", "role"])
def test_organisation_and_role_follow_the_same_rules(field: str) -> None:
    with pytest.raises(UnsafeTextError):
        sign_device_credential(ROOT, credential(**{field: "Policie\u202eČR"}))
    rogue = forge(ROOT, credential(**{field: "Policie\u2066ČR"}))
    with pytest.raises(UnsafeTextError):
        verify_device_credential(ROOT.public_key, rogue, now=NOW)


@pytest.mark.parametrize(
    "name",
    [
        "Jana Nováková",
        "Dr. Hans Müller-Lüdenscheidt",
        "Zoë O'Brien",
        "مريم الحسيني",  # right-to-left letters are fine, only the controls are not
        "Łukasz Żółć",
        "Nguyễn Thị Minh Khai",
        "山田 花子",
        "a" * MAX_DISPLAY_NAME_BYTES,
        "č" * (MAX_DISPLAY_NAME_BYTES // 2),
        "Jaq" + "\u0301" * MAX_COMBINING_RUN,
    ],
)
def test_real_names_are_accepted(name: str) -> None:
    signed = sign_device_credential(ROOT, credential(display_name=name))
    assert verify_device_credential(ROOT.public_key, signed, now=NOW).display_name == name


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("display_name", MAX_DISPLAY_NAME_BYTES),
        ("organisation", MAX_ORGANISATION_BYTES),
        ("role", MAX_ROLE_BYTES),
    ],
)
def test_text_lengths_are_bounded_in_bytes(field: str, limit: int) -> None:
    sign_device_credential(ROOT, credential(**{field: "a" * limit}))
    for too_long in ("a" * (limit + 1), "č" * (limit // 2 + 1)):
        with pytest.raises(DirectoryFieldError) as caught:
            sign_device_credential(ROOT, credential(**{field: too_long}))
        assert caught.value.code == "directory_field"
        with pytest.raises(DirectoryFieldError):
            verify_device_credential(
                ROOT.public_key, forge(ROOT, credential(**{field: too_long})), now=NOW
            )


def test_name_and_organisation_are_required_role_is_not() -> None:
    for field in ("display_name", "organisation"):
        with pytest.raises(DirectoryFieldError):
            sign_device_credential(ROOT, credential(**{field: ""}))
    sign_device_credential(ROOT, credential(role=""))


def test_check_display_text_directly() -> None:
    check_display_text("Jana", "name", 4)
    with pytest.raises(DirectoryFieldError):
        check_display_text("Janas", "name", 4)


# --- other credential rules ---------------------------------------------------------------


def test_inverted_window_is_never_signed() -> None:
    with pytest.raises(DirectoryFieldError):
        sign_device_credential(ROOT, credential(not_before=NOW, not_after=NOW - 1))


@pytest.mark.parametrize(
    "changes",
    [
        {"signature_key": b"\x00" * 32},  # the identity: not a point of prime order
        {"signature_key": DEVICE.public_key[:-1]},
        {"cipher_suite": 2},  # an Ed25519 key certified for a P-256 suite
        {"cipher_suite": 0x7A7A},  # an unsupported suite
    ],
    ids=["identity point", "short key", "wrong suite", "unsupported suite"],
)
def test_unusable_signature_keys_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(CredentialKeyError) as caught:
        sign_device_credential(ROOT, credential(**changes))
    assert caught.value.code == "credential_key"
    with pytest.raises(CredentialKeyError):
        verify_device_credential(ROOT.public_key, forge(ROOT, credential(**changes)), now=NOW)


def test_a_p256_device_key_is_certified_for_suite_2() -> None:
    p256 = ECDSA_P256_SHA256.generate(DeterministicRandom("p256 device"))
    value = credential(signature_key=p256.public_key, cipher_suite=2)
    signed = sign_device_credential(ROOT, value)
    assert verify_device_credential(ROOT.public_key, signed, now=NOW) == value


@pytest.mark.parametrize(
    "changes",
    [
        {"member_id": bytes(15)},
        {"device_id": bytes(17)},
        {"invite_id": b""},
        {"cipher_suite": 1 << 16},
        {"not_before": -1},
        {"not_after": 1 << 64},
    ],
)
def test_malformed_credentials_cannot_be_built(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        credential(**changes)


# --- strict decoding ----------------------------------------------------------------------


def test_credential_decoding_is_strict() -> None:
    encoded = sign_device_credential(ROOT, credential()).to_bytes()
    with pytest.raises(DecodeError):
        SignedDeviceCredential.from_bytes(encoded + b"\x00")
    for cut in range(len(encoded)):
        with pytest.raises(DecodeError):
            SignedDeviceCredential.from_bytes(encoded[:cut])


def encoded_credential_with_name(raw_name: bytes) -> bytes:
    value = credential()
    w = Writer()
    w.opaque(value.platform_id)
    w.fixed(value.member_id)
    w.fixed(value.device_id)
    w.opaque(raw_name)
    w.opaque(value.organisation.encode())
    w.opaque(value.role.encode())
    w.opaque(value.signature_key)
    w.uint16(value.cipher_suite)
    w.uint64(value.not_before)
    w.uint64(value.not_after)
    w.fixed(value.invite_id)
    return w.getvalue()


def test_the_format_is_the_documented_one() -> None:
    assert encoded_credential_with_name("Jana Nováková".encode()) == credential().to_bytes()


@pytest.mark.parametrize(
    "raw_name",
    [b"\xff", b"Jana\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"],
    ids=["invalid byte", "truncated sequence", "overlong", "surrogate", "beyond U+10FFFF"],
)
def test_names_that_are_not_utf8_do_not_decode(raw_name: bytes) -> None:
    with pytest.raises(DecodeError):
        DeviceCredential.from_bytes(encoded_credential_with_name(raw_name))


def test_non_minimal_lengths_do_not_decode() -> None:
    encoded = credential().to_bytes()
    assert encoded[0] == 0x20  # platform_id: 32 bytes, one-byte length
    with pytest.raises(DecodeError):
        DeviceCredential.from_bytes(b"\x40\x20" + encoded[1:])


# --- the credential inside MLS ------------------------------------------------------------


def test_mls_credential_carries_the_signed_statement() -> None:
    signed = sign_device_credential(ROOT, credential())
    basic = mls_credential(signed)
    assert isinstance(basic, BasicCredential)
    assert basic.identity == signed.to_bytes()
    assert parse_mls_credential(BasicCredential.from_bytes(basic.to_bytes())) == signed


def test_verify_mls_credential_binds_the_leaf_key_and_suite() -> None:
    """A3/A4: a valid credential presented with another leaf key, or in another suite."""
    basic = mls_credential(sign_device_credential(ROOT, credential()))
    verified = verify_mls_credential(
        ROOT.public_key, basic, signature_key=DEVICE.public_key, cipher_suite=1, now=NOW
    )
    assert verified == credential()
    with pytest.raises(CredentialKeyMismatchError) as caught:
        verify_mls_credential(
            ROOT.public_key,
            basic,
            signature_key=key("relay's substitute").public_key,
            cipher_suite=1,
            now=NOW,
        )
    assert caught.value.code == "credential_key_mismatch"
    with pytest.raises(CredentialKeyMismatchError):
        verify_mls_credential(
            ROOT.public_key, basic, signature_key=DEVICE.public_key, cipher_suite=3, now=NOW
        )
    with pytest.raises(CredentialExpiredError):
        verify_mls_credential(
            ROOT.public_key, basic, signature_key=DEVICE.public_key, cipher_suite=1, now=NOW * 2
        )


def test_mls_credentials_that_are_not_statements_are_refused() -> None:
    with pytest.raises(CredentialTypeError):
        parse_mls_credential(X509Credential(certificates=(b"cert",)))
    with pytest.raises(DecodeError):
        parse_mls_credential(BasicCredential(identity=b"alice@example.org"))
    ghost = BasicCredential(identity=sign_device_credential(ROOT, credential()).to_bytes() + b"!")
    with pytest.raises(DecodeError):
        parse_mls_credential(ghost)


# --- revocations --------------------------------------------------------------------------


def test_revocation_sign_verify_round_trip() -> None:
    signed = sign_revocation(ROOT, revocation())
    decoded = SignedRevocation.from_bytes(signed.to_bytes())
    assert decoded == signed
    assert verify_revocation(ROOT.public_key, decoded) == revocation()


REVOCATION_CHANGES: dict[str, Any] = {
    "platform_id": bytes(32),
    "device_id": bytes(16),
    "member_id": bytes(16),
    "revoked_at": NOW + 1,
    "reason": RevocationReason.KEY_COMPROMISE,
}


def test_every_revocation_field_is_covered_by_the_tamper_test() -> None:
    assert set(REVOCATION_CHANGES) == {f.name for f in fields(Revocation)}


@pytest.mark.parametrize(
    ("name", "value"), REVOCATION_CHANGES.items(), ids=list(REVOCATION_CHANGES)
)
def test_every_tampered_revocation_field_breaks_the_signature(name: str, value: Any) -> None:
    signed = sign_revocation(ROOT, revocation())
    tampered = replace(signed, revocation=replace(signed.revocation, **{name: value}))
    with pytest.raises(RevocationSignatureError) as caught:
        verify_revocation(ROOT.public_key, tampered)
    assert caught.value.code == "revocation_signature"


def test_revocation_by_another_root_or_for_another_platform_is_refused() -> None:
    with pytest.raises(RevocationSignatureError):
        verify_revocation(OTHER_ROOT.public_key, sign_revocation(ROOT, revocation()))
    with pytest.raises(RevocationPlatformError):
        sign_revocation(ROOT, revocation(platform_id=bytes(32)))
    content = revocation(platform_id=bytes(32))
    rogue = SignedRevocation(
        revocation=content, signature=sign_statement(ROOT, REVOCATION_LABEL, content.to_bytes())
    )
    with pytest.raises(RevocationPlatformError):
        verify_revocation(ROOT.public_key, rogue)


def test_a_credential_signature_is_not_a_revocation() -> None:
    content = revocation().to_bytes()
    signature = sign_statement(ROOT, DEVICE_CREDENTIAL_LABEL, content)
    with pytest.raises(RevocationSignatureError):
        verify_revocation(
            ROOT.public_key, SignedRevocation(revocation=revocation(), signature=signature)
        )


def test_an_unknown_reason_still_revokes() -> None:
    signed = sign_revocation(ROOT, revocation(reason=200))
    decoded = SignedRevocation.from_bytes(signed.to_bytes())
    verified = verify_revocation(ROOT.public_key, decoded)
    assert verified.reason == 200
    with pytest.raises(DeviceRevokedError) as caught:
        check_not_revoked(credential(), [verified])
    assert caught.value.code == "device_revoked"


def test_revocation_applies_by_platform_and_device() -> None:
    check_not_revoked(credential(), [])
    check_not_revoked(credential(), [revocation(device_id=bytes(16))])
    check_not_revoked(credential(), [revocation(platform_id=bytes(32))])
    with pytest.raises(DeviceRevokedError):  # whatever member it names: fail closed
        check_not_revoked(credential(), [revocation(member_id=bytes(16))])


def test_revocation_decoding_is_strict() -> None:
    encoded = sign_revocation(ROOT, revocation()).to_bytes()
    with pytest.raises(DecodeError):
        SignedRevocation.from_bytes(encoded + b"\x00")
    for cut in range(len(encoded)):
        with pytest.raises(DecodeError):
            SignedRevocation.from_bytes(encoded[:cut])


@pytest.mark.parametrize("changes", [{"device_id": bytes(15)}, {"reason": 256}, {"revoked_at": -1}])
def test_malformed_revocations_cannot_be_built(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        revocation(**changes)


# --- log entries --------------------------------------------------------------------------


def entries() -> list[LogEntry]:
    return [
        LogEntry(statement=sign_device_credential(ROOT, credential())),
        LogEntry(statement=sign_revocation(ROOT, revocation())),
    ]


def test_log_entries_round_trip_with_their_type_tag() -> None:
    issued, revoked = entries()
    assert issued.entry_type == LogEntryType.CREDENTIAL
    assert revoked.entry_type == LogEntryType.REVOCATION
    assert issued.to_bytes()[0] == 1
    assert revoked.to_bytes()[0] == 2
    for entry in (issued, revoked):
        assert LogEntry.from_bytes(entry.to_bytes()) == entry
        assert entry.leaf_hash() == leaf_hash(entry.to_bytes())


@pytest.mark.parametrize("tag", [0, 3, 255])
def test_unknown_log_entry_types_do_not_decode(tag: int) -> None:
    body = entries()[0].to_bytes()[1:]
    with pytest.raises(DecodeError):
        LogEntry.from_bytes(bytes([tag]) + body)


def test_a_credential_tagged_as_a_revocation_does_not_decode() -> None:
    body = entries()[0].to_bytes()[1:]
    with pytest.raises(DecodeError):
        LogEntry.from_bytes(b"\x02" + body)


def test_log_entry_decoding_is_strict() -> None:
    encoded = entries()[1].to_bytes()
    with pytest.raises(DecodeError):
        LogEntry.from_bytes(encoded + b"\x00")
    with pytest.raises(DecodeError):
        LogEntry.from_bytes(b"")


def test_verify_log_entry_checks_signatures_but_not_time() -> None:
    """The auditor replays entries long after they expired; forged ones still fail."""
    lapsed = credential(not_before=0, not_after=1)
    expired = LogEntry(statement=sign_device_credential(ROOT, lapsed))
    assert verify_log_entry(ROOT.public_key, expired) == lapsed
    issued, revoked = entries()
    assert verify_log_entry(ROOT.public_key, revoked) == revocation()
    with pytest.raises(CredentialSignatureError):
        verify_log_entry(OTHER_ROOT.public_key, issued)
    with pytest.raises(RevocationSignatureError):
        verify_log_entry(OTHER_ROOT.public_key, revoked)


def test_a_logged_credential_is_proved_included() -> None:
    """The client's path: a credential from a leaf, its entry, an inclusion proof."""
    others = [
        LogEntry(statement=sign_device_credential(ROOT, credential(device_id=bytes([i]) * 16)))
        for i in range(5)
    ]
    issued = entries()[0]
    log = [e.leaf_hash() for e in [*others[:3], issued, *others[3:]]]
    root = merkle_root(log)
    verify_inclusion(issued.leaf_hash(), 3, len(log), inclusion_proof(log, 3), root)


# --- properties ---------------------------------------------------------------------------

SAFE_TEXT = st.text(
    alphabet=st.characters(categories=["Lu", "Ll", "Lo", "Nd", "Pd", "Po"]),
    min_size=1,
    max_size=16,
).filter(lambda s: unicodedata.is_normalized("NFC", s) and len(s.encode()) <= MAX_ROLE_BYTES)
IDS = st.binary(min_size=16, max_size=16)
UINT64 = st.integers(0, (1 << 64) - 1)


@st.composite
def credentials(draw: Callable[..., Any]) -> DeviceCredential:
    not_before = draw(UINT64)
    return credential(
        member_id=draw(IDS),
        device_id=draw(IDS),
        invite_id=draw(IDS),
        display_name=draw(SAFE_TEXT),
        organisation=draw(SAFE_TEXT),
        role=draw(SAFE_TEXT),
        not_before=not_before,
        not_after=draw(st.integers(not_before, (1 << 64) - 1)),
    )


@given(credentials())
def test_any_valid_credential_round_trips_and_verifies(value: DeviceCredential) -> None:
    signed = sign_device_credential(ROOT, value)
    decoded = SignedDeviceCredential.from_bytes(signed.to_bytes())
    assert verify_device_credential(ROOT.public_key, decoded, now=value.not_before) == value
    assert LogEntry.from_bytes(LogEntry(statement=decoded).to_bytes()).statement == signed


@given(st.binary(max_size=300))
def test_random_bytes_only_ever_fail_to_decode(data: bytes) -> None:
    for kind in (SignedDeviceCredential, SignedRevocation, LogEntry):
        try:
            value = kind.from_bytes(data)
        except DecodeError:
            continue
        assert value.to_bytes() == data


@given(IDS, IDS, UINT64, st.integers(0, 255))
def test_any_revocation_round_trips(device: bytes, member: bytes, at: int, reason: int) -> None:
    value = revocation(device_id=device, member_id=member, revoked_at=at, reason=reason)
    signed = sign_revocation(ROOT, value)
    decoded = SignedRevocation.from_bytes(signed.to_bytes())
    assert verify_revocation(ROOT.public_key, decoded) == value
