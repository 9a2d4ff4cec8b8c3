"""client.keystore_payload: the device identity and the keystore payload, encoded as the
module docstring lays out and decoded strictly (ATTACKS.md K3, K4, E6)."""

from __future__ import annotations

import pytest

from client.keystore_payload import (
    MAX_RELAY_URL_BYTES,
    PAYLOAD_VERSION,
    DeviceIdentity,
    KeystorePayload,
    KeystorePayloadError,
)
from client.sealed_fields import StorageKey
from crypto.errors import InvalidKeyError
from crypto.keystore import KeystoreError
from crypto.signatures import ED25519
from crypto.suites import SUPPORTED_SUITE_IDS, cipher_suite
from protocol.codec import Reader, Writer
from tests.client.conftest import SUITE, make_identity, make_signing_key
from tests.helpers import DeterministicRandom

STORAGE_KEY_BYTES = bytes(range(100, 132))


def _payload(suite_id: int = 1) -> KeystorePayload:
    suite = cipher_suite(suite_id)
    return KeystorePayload(
        suite=suite,
        signing_key=suite.signature.generate(DeterministicRandom(f"suite {suite_id}")),
        storage_key=StorageKey(STORAGE_KEY_BYTES),
        identity=make_identity(),
    )


def _encode(
    *,
    version: int = PAYLOAD_VERSION,
    suite_id: int = 1,
    signing_key: bytes | None = None,
    storage_key: bytes = STORAGE_KEY_BYTES,
    identity: bytes | None = None,
) -> bytes:
    """A payload written field by field, so each field can be made wrong on its own."""
    w = Writer()
    w.uint16(version)
    w.uint16(suite_id)
    w.opaque(make_signing_key().to_bytes() if signing_key is None else signing_key)
    w.fixed(storage_key)
    w.fixed(make_identity().to_bytes() if identity is None else identity)
    return w.getvalue()


def _identity_bytes(
    *, root: bytes | None = None, url: bytes = b"https://relay.example.org/"
) -> bytes:
    w = Writer()
    w.fixed(b"\x01" * 16)
    w.fixed(b"\x02" * 16)
    w.opaque(ED25519.generate(DeterministicRandom("root")).public_key if root is None else root)
    w.opaque(url)
    return w.getvalue()


# --- DeviceIdentity -----------------------------------------------------------------------


def test_identity_round_trip() -> None:
    identity = make_identity()
    assert DeviceIdentity.from_bytes(identity.to_bytes()) == identity


@pytest.mark.parametrize(
    "url",
    [
        "https://relay.example.org/",
        "https://relay.example.org:8443/casecircle",
        "http://localhost:8080",
        "http://127.0.0.1:1",
        "https://[::1]:443/",
        "https://relé.example.cz/",
    ],
)
def test_identity_accepts_http_and_https_relay_urls(url: str) -> None:
    identity = DeviceIdentity(
        device_id=bytes(16),
        member_id=bytes(16),
        platform_root_public_key=make_identity().platform_root_public_key,
        relay_url=url,
    )
    assert DeviceIdentity.from_bytes(identity.to_bytes()).relay_url == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "relay.example.org",
        "ftp://relay.example.org/",
        "file:///etc/passwd",
        "https://",
        "https:///path",
        "https://user:secret@relay.example.org/",
        "https://user@relay.example.org/",
        "https://relay.example.org/#fragment",
        "https://relay.example.org:99999/",
        "https://relay.example.org:port/",
        "https://relay.example.org/" + "a" * MAX_RELAY_URL_BYTES,
        "https://relay.example.org/\ud800",
        " https://relay.example.org/",
        "https://relay.example.org/\n",
        "https://rel\tay.example.org/",  # urlsplit would check "relay.example.org"
        "https://relay.example.org/\x00",
        "https://relay example.org/",
        "https://relay.example.org/\u00a0",
    ],
)
def test_identity_refuses_bad_relay_urls(url: str) -> None:
    with pytest.raises(ValueError):
        DeviceIdentity(
            device_id=bytes(16),
            member_id=bytes(16),
            platform_root_public_key=make_identity().platform_root_public_key,
            relay_url=url,
        )


@pytest.mark.parametrize("field", ["device_id", "member_id"])
@pytest.mark.parametrize("size", [0, 15, 17, 32])
def test_identity_refuses_ids_of_the_wrong_size(field: str, size: int) -> None:
    values: dict[str, bytes] = {"device_id": bytes(16), "member_id": bytes(16)}
    values[field] = bytes(size)
    with pytest.raises(ValueError, match=field):
        DeviceIdentity(
            **values,
            platform_root_public_key=make_identity().platform_root_public_key,
            relay_url="https://relay.example.org/",
        )


@pytest.mark.parametrize("root", [b"", bytes(31), bytes(33)])
def test_identity_refuses_a_malformed_platform_root_key(root: bytes) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        DeviceIdentity(
            device_id=bytes(16),
            member_id=bytes(16),
            platform_root_public_key=root,
            relay_url="https://relay.example.org/",
        )
    assert caught.value.code == "invalid_key"


# --- KeystorePayload ----------------------------------------------------------------------


@pytest.mark.parametrize("suite_id", SUPPORTED_SUITE_IDS)
def test_payload_round_trip(suite_id: int) -> None:
    payload = _payload(suite_id)
    decoded = KeystorePayload.from_bytes(payload.to_bytes())
    assert decoded.suite == payload.suite
    assert decoded.signing_key == payload.signing_key
    assert decoded.signing_key.public_key == payload.signing_key.public_key
    assert decoded.storage_key.to_bytes() == STORAGE_KEY_BYTES
    assert decoded.identity == payload.identity
    assert decoded.to_bytes() == payload.to_bytes()


def test_payload_layout_is_the_documented_struct() -> None:
    payload = _payload(1)
    r = Reader(payload.to_bytes())
    assert r.uint16() == PAYLOAD_VERSION == 1
    assert r.uint16() == 1
    assert r.opaque() == payload.signing_key.to_bytes()
    assert r.fixed(32) == STORAGE_KEY_BYTES
    assert r.fixed(16) == payload.identity.device_id
    assert r.fixed(16) == payload.identity.member_id
    assert r.opaque() == payload.identity.platform_root_public_key
    assert r.opaque() == payload.identity.relay_url.encode()
    r.finish()
    assert _encode(signing_key=payload.signing_key.to_bytes()) == payload.to_bytes()


def test_a_signing_key_of_another_scheme_does_not_belong_to_the_suite() -> None:
    with pytest.raises(ValueError, match="does not belong"):
        KeystorePayload(
            suite=cipher_suite(2),  # ECDSA P-256
            signing_key=make_signing_key(),  # Ed25519
            storage_key=StorageKey(STORAGE_KEY_BYTES),
            identity=make_identity(),
        )


def test_the_encoding_helper_makes_payloads_that_decode() -> None:
    """The negative tests below change one field of _encode's output; unchanged, it opens."""
    decoded = KeystorePayload.from_bytes(_encode())
    assert decoded.suite == SUITE
    assert decoded.signing_key == make_signing_key()
    assert KeystorePayload.from_bytes(_encode(identity=_identity_bytes())).identity.device_id == (
        b"\x01" * 16
    )


def test_every_truncation_is_refused() -> None:
    data = _payload().to_bytes()
    for cut in range(len(data)):
        with pytest.raises(KeystorePayloadError):
            KeystorePayload.from_bytes(data[:cut])


@pytest.mark.parametrize("extra", [b"\x00", b"\xff" * 32])
def test_trailing_bytes_are_refused(extra: bytes) -> None:
    with pytest.raises(KeystorePayloadError):
        KeystorePayload.from_bytes(_payload().to_bytes() + extra)


@pytest.mark.parametrize("version", [0, 2, 0xFFFF])
def test_another_payload_version_is_refused_not_guessed(version: int) -> None:
    with pytest.raises(KeystorePayloadError, match=f"version {version} is not known") as caught:
        KeystorePayload.from_bytes(_encode(version=version))
    assert caught.value.code == "keystore_payload"
    assert isinstance(caught.value, KeystoreError)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_encode(suite_id=0), id="suite 0"),
        pytest.param(_encode(suite_id=0x0099), id="unknown suite"),
        pytest.param(_encode(suite_id=2, signing_key=bytes(32)), id="P-256 scalar 0"),
        pytest.param(_encode(signing_key=bytes(31)), id="short Ed25519 key"),
        pytest.param(_encode(signing_key=bytes(33)), id="long Ed25519 key"),
        pytest.param(_encode(identity=_identity_bytes(root=bytes(31))), id="bad root key"),
        pytest.param(_encode(identity=_identity_bytes(url=b"ftp://x/")), id="ftp relay"),
        pytest.param(_encode(identity=_identity_bytes(url=b"https://\xff/")), id="not UTF-8"),
        pytest.param(_encode(identity=_identity_bytes(url=b"")), id="empty relay"),
        pytest.param(_encode(storage_key=bytes(31)), id="storage key short"),
    ],
)
def test_malformed_fields_are_one_typed_error(data: bytes) -> None:
    with pytest.raises(KeystorePayloadError) as caught:
        KeystorePayload.from_bytes(data)
    assert caught.value.code == "keystore_payload"


def test_a_decoding_error_carries_no_key_material() -> None:
    """K4: no detail that could echo key bytes, and no chained exception holding them."""
    secret_key = bytes(range(1, 32))  # 31 bytes: not a valid Ed25519 key
    with pytest.raises(KeystorePayloadError) as caught:
        KeystorePayload.from_bytes(_encode(signing_key=secret_key))
    error = caught.value
    assert error.__cause__ is None
    assert error.__suppress_context__
    for text in (str(error), repr(error)):
        assert secret_key.hex() not in text
        assert STORAGE_KEY_BYTES.hex() not in text
        assert str(list(secret_key)) not in text
        assert repr(secret_key) not in text


def test_payload_repr_shows_no_secret() -> None:
    payload = _payload()
    text = repr(payload)
    assert payload.signing_key.to_bytes().hex() not in text
    assert STORAGE_KEY_BYTES.hex() not in text
    assert repr(STORAGE_KEY_BYTES) not in text
    assert "StorageKey(<redacted>)" in text
