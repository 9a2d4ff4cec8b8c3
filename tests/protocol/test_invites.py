"""Invite codes and enrolment requests (DESIGN §5; ATTACKS A1, A2, C4, E2, E6).

The invite id and MAC key are checked against HKDF-SHA-256 computed here with the standard
library, so the derivation is the documented one. Each refusal of
:func:`verify_enrolment_request` is shown by a request that breaks only that rule: where the
rule is checked after the MAC, the request carries a valid MAC (``remac``), so the test
shows the rule itself firing, not the MAC check that runs first.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto.errors import CasecircleError
from crypto.labels import sign_with_label
from crypto.signatures import SigningKey
from crypto.suites import cipher_suite
from crypto.tls import opaque
from protocol.directory import platform_fingerprint
from protocol.errors import DecodeError, ValidationError
from protocol.invites import (
    INVITE_CODE_SIZE,
    MAX_CLOCK_SKEW,
    MAX_REQUEST_AGE,
    POSSESSION_LABEL,
    EnrolmentRequest,
    EnrolmentTimeError,
    InviteCode,
    InviteCodeError,
    InviteError,
    InviteMacError,
    InviteMismatchError,
    PlatformMismatchError,
    PossessionError,
    make_enrolment_request,
    verify_enrolment_request,
)
from protocol.statements import PLATFORM_SUITE
from tests.helpers import DeterministicRandom, mutate

NOW = 1_750_000_000
SUITES = (1, 2, 3)


def key(name: str, suite_id: int = 1) -> SigningKey:
    return cipher_suite(suite_id).signature.generate(DeterministicRandom(f"{name} {suite_id}"))


ROOT = key("platform root")
OTHER_ROOT = key("another platform's root")
CODE = InviteCode.generate(ROOT.public_key, DeterministicRandom("invite for Jana"))
OTHER_CODE = InviteCode.generate(ROOT.public_key, DeterministicRandom("invite for Petr"))
DEVICE_ID = bytes(range(16))
DEVICE_KEY = key("Jana's laptop")


def request(
    code: InviteCode = CODE, suite_id: int = 1, now: int = NOW, device_key: SigningKey | None = None
) -> EnrolmentRequest:
    signing_key = device_key or key("Jana's laptop", suite_id)
    return make_enrolment_request(code, DEVICE_ID, signing_key, suite_id, now)


def remac(value: EnrolmentRequest, code: InviteCode = CODE) -> EnrolmentRequest:
    """The request with a MAC that verifies under ``code``: what the invite holder sends."""
    mac = hmac.new(code.mac_key, value.to_be_signed() + value.possession, hashlib.sha256)
    return replace(value, mac=mac.digest())


def hkdf_sha256(secret: bytes, info: bytes, length: int) -> bytes:
    prk = hmac.new(bytes(32), secret, hashlib.sha256).digest()
    output, block = b"", b""
    for counter in range(1, 1 + -(-length // 32)):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        output += block
    return output[:length]


# --- invite codes -------------------------------------------------------------------------


def test_an_invite_code_is_a_secret_and_the_platform_prefix() -> None:
    encoded = CODE.to_bytes()
    assert len(encoded) == INVITE_CODE_SIZE == 32
    assert encoded == CODE.secret + CODE.platform_prefix
    assert CODE.secret == DeterministicRandom("invite for Jana").random_bytes(16)
    assert CODE.platform_prefix == platform_fingerprint(ROOT.public_key)[:16]
    assert InviteCode.from_bytes(encoded) == CODE


def test_invite_id_and_mac_key_are_hkdf_of_the_secret() -> None:
    assert CODE.invite_id == hkdf_sha256(CODE.secret, b"casecircle 1 InviteId", 16)
    assert CODE.mac_key == hkdf_sha256(CODE.secret, b"casecircle 1 InviteMac", 32)
    assert CODE.mac_key[:16] != CODE.invite_id


def test_invite_id_and_mac_key_are_deterministic_and_differ_per_secret() -> None:
    again = InviteCode.from_bytes(CODE.to_bytes())
    assert (again.invite_id, again.mac_key) == (CODE.invite_id, CODE.mac_key)
    assert OTHER_CODE.secret != CODE.secret
    assert OTHER_CODE.invite_id != CODE.invite_id
    assert OTHER_CODE.mac_key != CODE.mac_key
    one_bit = bytes([CODE.secret[0] ^ 1]) + CODE.secret[1:]
    flipped = InviteCode(secret=one_bit, platform_prefix=CODE.platform_prefix)
    assert flipped.invite_id != CODE.invite_id and flipped.mac_key != CODE.mac_key
    elsewhere = InviteCode(secret=CODE.secret, platform_prefix=bytes(16))
    assert elsewhere.invite_id == CODE.invite_id  # derived from the secret alone


def test_generated_codes_draw_their_secret_from_the_random_source() -> None:
    rng = DeterministicRandom("codes")
    first, second = (InviteCode.generate(ROOT.public_key, rng) for _ in range(2))
    assert first.secret != second.secret
    assert first.platform_prefix == second.platform_prefix


def test_check_platform_pins_the_root() -> None:
    CODE.check_platform(ROOT.public_key)
    for other in (OTHER_ROOT.public_key, ROOT.public_key[:-1], b"", key("root", 2).public_key):
        with pytest.raises(PlatformMismatchError) as caught:
            CODE.check_platform(other)
        assert caught.value.code == "platform_mismatch"
    elsewhere = InviteCode.generate(OTHER_ROOT.public_key, DeterministicRandom("x"))
    elsewhere.check_platform(OTHER_ROOT.public_key)
    with pytest.raises(PlatformMismatchError):
        elsewhere.check_platform(ROOT.public_key)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_invite_codes_of_the_wrong_length_are_refused(size: int) -> None:
    with pytest.raises(InviteCodeError) as caught:
        InviteCode.from_bytes(bytes(size))
    assert caught.value.code == "invite_code"


@pytest.mark.parametrize(
    ("secret", "prefix"), [(bytes(15), bytes(16)), (bytes(17), bytes(16)), (bytes(16), bytes(32))]
)
def test_invite_codes_cannot_be_built_with_wrong_sizes(secret: bytes, prefix: bytes) -> None:
    with pytest.raises(InviteCodeError):
        InviteCode(secret=secret, platform_prefix=prefix)


def test_repr_of_an_invite_code_does_not_show_the_secret() -> None:
    secrets = (CODE.secret, CODE.mac_key, CODE.to_bytes())
    for shown in (repr(CODE), str(CODE), repr([CODE]), f"{CODE!r}", repr({"code": CODE})):
        assert "redacted" in shown
        assert CODE.invite_id.hex() in shown
        for secret in secrets:
            assert secret.hex() not in shown
            assert repr(secret)[2:-1] not in shown
    assert CODE.secret.hex() not in repr(request())


def test_invite_errors_are_validation_errors() -> None:
    assert issubclass(InviteError, ValidationError)
    for error in (
        InviteCodeError,
        PlatformMismatchError,
        InviteMismatchError,
        InviteMacError,
        PossessionError,
        EnrolmentTimeError,
    ):
        assert issubclass(error, InviteError)


# --- enrolment requests -------------------------------------------------------------------


@pytest.mark.parametrize("suite_id", SUITES)
def test_a_request_made_with_the_code_verifies(suite_id: int) -> None:
    value = request(suite_id=suite_id)
    assert value.invite_id == CODE.invite_id
    assert value.signature_key == key("Jana's laptop", suite_id).public_key
    assert value.cipher_suite == suite_id
    decoded = EnrolmentRequest.from_bytes(value.to_bytes())
    assert decoded == value
    verify_enrolment_request(decoded, CODE, NOW)


def test_request_layout() -> None:
    value = request()
    expected = (
        CODE.invite_id
        + DEVICE_ID
        + b"\x00\x01"
        + opaque(DEVICE_KEY.public_key)
        + NOW.to_bytes(8, "big")
    )
    assert value.to_be_signed() == expected
    assert value.to_bytes() == expected + opaque(value.possession) + value.mac
    assert len(value.mac) == 32


def test_the_mac_is_hmac_sha256_over_tbs_and_possession() -> None:
    value = request()
    mac = hmac.new(CODE.mac_key, value.to_be_signed() + value.possession, hashlib.sha256)
    assert value.mac == mac.digest()
    assert value.mac == PLATFORM_SUITE.mac(CODE.mac_key, value.to_be_signed() + value.possession)


def test_a_request_made_with_another_secret_does_not_verify() -> None:
    """A1, A2: the relay knows the invite id, not the code; it cannot make a valid MAC."""
    forged = replace(request(OTHER_CODE), invite_id=CODE.invite_id)
    with pytest.raises(InviteMacError) as caught:
        verify_enrolment_request(forged, CODE, NOW)
    assert caught.value.code == "invite_mac"
    # The same with a MAC computed over exactly the right fields, under the wrong key.
    with pytest.raises(InviteMacError):
        verify_enrolment_request(remac(replace(request(), mac=bytes(32)), OTHER_CODE), CODE, NOW)
    # And a request keyed by the invite id itself (what the relay could try).
    posing = InviteCode(secret=CODE.invite_id, platform_prefix=CODE.platform_prefix)
    with pytest.raises(InviteMacError):
        verify_enrolment_request(remac(request(), posing), CODE, NOW)


@pytest.mark.parametrize(
    "field",
    ["device_id", "signature_key", "requested_at", "cipher_suite", "possession", "mac"],
)
def test_a_tampered_field_breaks_the_mac(field: str) -> None:
    value = request()
    tampered: Any = {
        "device_id": bytes(range(1, 17)),
        "signature_key": key("the relay's own device").public_key,
        "requested_at": NOW - 1,
        "cipher_suite": 3,
        "possession": sign_with_label(
            cipher_suite(1), key("the relay's own device"), POSSESSION_LABEL, value.to_be_signed()
        ),
        "mac": value.mac[:-1] + bytes([value.mac[-1] ^ 0x80]),
    }[field]
    with pytest.raises(InviteMacError) as caught:
        verify_enrolment_request(replace(value, **{field: tampered}), CODE, NOW)
    assert caught.value.code == "invite_mac"


def test_a_request_for_another_invite_is_refused() -> None:
    with pytest.raises(InviteMismatchError) as caught:
        verify_enrolment_request(request(OTHER_CODE), CODE, NOW)
    assert caught.value.code == "invite_mismatch"
    with pytest.raises(InviteMismatchError):
        verify_enrolment_request(request(CODE), OTHER_CODE, NOW)


def test_the_invite_id_is_checked_before_the_mac_and_the_mac_before_the_rest() -> None:
    """The documented order: a foreign request with a bad MAC is reported as foreign; a
    stale request with a bad MAC as a bad MAC; a stale one with a bad possession as stale."""
    with pytest.raises(InviteMismatchError):
        verify_enrolment_request(replace(request(OTHER_CODE), mac=bytes(32)), CODE, NOW)
    stale = request(now=NOW - MAX_REQUEST_AGE - 1)
    with pytest.raises(InviteMacError):
        verify_enrolment_request(replace(stale, mac=bytes(32)), CODE, NOW)
    with pytest.raises(EnrolmentTimeError):
        verify_enrolment_request(remac(replace(stale, possession=b"\x00" * 64)), CODE, NOW)


def _possession_cases() -> dict[str, EnrolmentRequest]:
    value = request()
    suite = cipher_suite(1)
    tbs = value.to_be_signed()
    other_device_tbs = replace(value, device_id=bytes(16)).to_be_signed()
    ed25519_identity = b"\x01" + bytes(31)
    p256_key = key("Jana's laptop", 2).public_key
    return {
        "signed by another key": replace(
            value, possession=sign_with_label(suite, key("other"), POSSESSION_LABEL, tbs)
        ),
        "signed for other content": replace(
            value,
            possession=sign_with_label(suite, DEVICE_KEY, POSSESSION_LABEL, other_device_tbs),
        ),
        "signed with another label": replace(
            value, possession=sign_with_label(suite, DEVICE_KEY, "casecircle enrolmen", tbs)
        ),
        "signed without a label": replace(value, possession=DEVICE_KEY.sign(tbs)),
        "empty possession": replace(value, possession=b""),
        "bit flipped": replace(
            value, possession=bytes([value.possession[0] ^ 1]) + value.possession[1:]
        ),
        "key too short": replace(value, signature_key=DEVICE_KEY.public_key[:-1]),
        "small-order key": replace(value, signature_key=ed25519_identity),
        "empty key": replace(value, signature_key=b""),
        "unsupported suite": replace(value, cipher_suite=0x00FF),
        "suite zero": replace(value, cipher_suite=0),
        "Ed25519 key under P-256": replace(value, cipher_suite=2),
        "P-256 key under Ed25519": replace(value, signature_key=p256_key),
    }


POSSESSION_CASES = _possession_cases()


@pytest.mark.parametrize("name", POSSESSION_CASES)
def test_a_valid_mac_with_a_bad_possession_proof_is_refused(name: str) -> None:
    forged = remac(POSSESSION_CASES[name])
    with pytest.raises(PossessionError) as caught:
        verify_enrolment_request(forged, CODE, NOW)
    assert caught.value.code == "possession"


def test_the_time_window_includes_both_ends() -> None:
    oldest = request(now=NOW - MAX_REQUEST_AGE)
    newest = request(now=NOW + MAX_CLOCK_SKEW)
    verify_enrolment_request(oldest, CODE, NOW)
    verify_enrolment_request(newest, CODE, NOW)
    for value in (request(now=NOW - MAX_REQUEST_AGE - 1), request(now=NOW + MAX_CLOCK_SKEW + 1)):
        with pytest.raises(EnrolmentTimeError) as caught:
            verify_enrolment_request(value, CODE, NOW)
        assert caught.value.code == "enrolment_time"


@pytest.mark.parametrize("requested_at", [0, NOW - 30 * 24 * 3600, NOW + 3600, 2**64 - 1])
def test_requests_far_from_now_are_refused(requested_at: int) -> None:
    with pytest.raises(EnrolmentTimeError):
        verify_enrolment_request(request(now=requested_at), CODE, NOW)


def test_a_request_is_still_valid_the_next_day_but_not_the_next_fortnight() -> None:
    value = request()
    verify_enrolment_request(value, CODE, NOW + 24 * 3600)
    with pytest.raises(EnrolmentTimeError):
        verify_enrolment_request(value, CODE, NOW + 14 * 24 * 3600)


# --- strict decoding ----------------------------------------------------------------------


def test_truncated_and_extended_requests_do_not_decode() -> None:
    encoded = request().to_bytes()
    for cut in range(len(encoded)):
        with pytest.raises(DecodeError) as caught:
            EnrolmentRequest.from_bytes(encoded[:cut])
        assert caught.value.code == "decode"
    for extra in (b"\x00", b"\xff" * 32, encoded):
        with pytest.raises(DecodeError, match="trailing"):
            EnrolmentRequest.from_bytes(encoded + extra)


def test_a_non_minimal_key_length_does_not_decode() -> None:
    value = request()
    head = value.invite_id + value.device_id + b"\x00\x01"
    rest = value.to_bytes()[len(head) + 1 + 32 :]
    assert value.to_bytes()[len(head)] == 32
    with pytest.raises(DecodeError, match="non-minimal"):
        EnrolmentRequest.from_bytes(head + b"\x40\x20" + value.signature_key + rest)


@pytest.mark.parametrize(
    "changes",
    [
        {"invite_id": bytes(15)},
        {"device_id": bytes(17)},
        {"mac": bytes(31)},
        {"cipher_suite": 0x10000},
        {"cipher_suite": -1},
        {"requested_at": -1},
        {"requested_at": 2**64},
    ],
)
def test_malformed_requests_cannot_be_built(changes: dict[str, Any]) -> None:
    with pytest.raises(DecodeError):
        replace(request(), **changes)


# --- properties ---------------------------------------------------------------------------

FUZZ = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
SEEDS = st.integers(min_value=0, max_value=2**64 - 1)
SEED_REQUESTS = tuple(request(suite_id=suite_id).to_bytes() for suite_id in SUITES)


def decode_or_none(data: bytes) -> EnrolmentRequest | None:
    try:
        value = EnrolmentRequest.from_bytes(data)
    except DecodeError as exc:
        assert isinstance(exc, CasecircleError)
        return None
    assert value.to_bytes() == data, "an accepted input must be canonical"
    return value


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_only_fail_with_typed_errors(data: bytes) -> None:
    decode_or_none(data)
    try:
        code = InviteCode.from_bytes(data)
    except InviteCodeError as exc:
        assert isinstance(exc, CasecircleError)
        assert len(data) != INVITE_CODE_SIZE
    else:
        assert code.to_bytes() == data


@FUZZ
@given(seed=SEEDS)
def test_mutated_requests_never_verify(seed: int) -> None:
    """A mutated request either does not decode (DecodeError) or fails verification with an
    InviteError; only the unchanged bytes verify."""
    rnd = random.Random(seed)
    for _ in range(4):
        original = rnd.choice(SEED_REQUESTS)
        data = mutate(original, rnd)
        value = decode_or_none(data)
        if value is None:
            continue
        try:
            verify_enrolment_request(value, CODE, NOW)
        except InviteError as exc:
            assert isinstance(exc, CasecircleError)
        else:
            assert data == original


@settings(max_examples=50, deadline=None, database=None)
@given(
    secret=st.binary(min_size=16, max_size=16),
    device_id=st.binary(min_size=16, max_size=16),
    now=st.integers(MAX_REQUEST_AGE, 2**63),
)
def test_any_invite_enrols_its_own_device_only(secret: bytes, device_id: bytes, now: int) -> None:
    code = InviteCode(secret=secret, platform_prefix=CODE.platform_prefix)
    value = make_enrolment_request(code, device_id, DEVICE_KEY, 1, now)
    verify_enrolment_request(EnrolmentRequest.from_bytes(value.to_bytes()), code, now)
    with pytest.raises(InviteMismatchError):
        verify_enrolment_request(value, CODE if code != CODE else OTHER_CODE, now)
