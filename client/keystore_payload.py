"""What a device's keystore holds (DESIGN.md §5, §8): the payload :mod:`crypto.keystore` seals.

TLS presentation language (RFC 9420 §2.1, :mod:`protocol.codec`), decoded strictly::

    struct {
        opaque device_id[16];
        opaque member_id[16];
        opaque platform_root_public_key<V>;  /* Ed25519, pinned when the device enrolled */
        opaque relay_url<V>;                 /* UTF-8, http or https */
    } DeviceIdentity;

    struct {
        uint16 version;                      /* 1 */
        uint16 cipher_suite;                 /* RFC 9420 suite: fixes the signature scheme */
        opaque signature_private_key<V>;     /* as crypto.signatures encodes it */
        opaque storage_key[32];              /* seals the local database's fields */
        DeviceIdentity identity;
    } KeystorePayload;

A payload of another version is refused (:class:`KeystorePayloadError`), never guessed at:
a newer casecircle that needs more fields writes version 2, and this one says so instead of
misreading it. The identity fields are not secret, but they live here because the keystore
authenticates them: someone who can write the disk cannot swap the pinned platform root or
redirect the device to another relay without the passphrase.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self
from urllib.parse import urlsplit

from client.sealed_fields import STORAGE_KEY_SIZE, StorageKey
from crypto.errors import CasecircleError
from crypto.keystore import KeystoreError
from crypto.signatures import ED25519, SigningKey
from crypto.suites import CipherSuite, cipher_suite
from protocol.codec import Reader, Struct, Writer, decode_exact
from protocol.directory import ID_SIZE

PAYLOAD_VERSION = 1
MAX_RELAY_URL_BYTES = 2048


class KeystorePayloadError(KeystoreError):
    """The keystore opened, but what it holds is not a payload this version can read."""

    code = "keystore_payload"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceIdentity(Struct):
    """Who this device is and whom it trusts, fixed when it enrolled."""

    device_id: bytes
    member_id: bytes
    platform_root_public_key: bytes
    relay_url: str

    def __post_init__(self) -> None:
        for name in ("device_id", "member_id"):
            if len(getattr(self, name)) != ID_SIZE:
                raise ValueError(f"{name} must be {ID_SIZE} bytes")
        ED25519.validate_public_key(self.platform_root_public_key)
        _check_relay_url(self.relay_url)

    def encode(self, w: Writer) -> None:
        w.fixed(self.device_id)
        w.fixed(self.member_id)
        w.opaque(self.platform_root_public_key)
        w.opaque(self.relay_url.encode("utf-8"))

    @classmethod
    def decode(cls, r: Reader) -> Self:
        device_id = r.fixed(ID_SIZE)
        member_id = r.fixed(ID_SIZE)
        root = r.opaque()
        url = r.opaque().decode("utf-8")
        return cls(
            device_id=device_id, member_id=member_id, platform_root_public_key=root, relay_url=url
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class KeystorePayload:
    """The decoded payload; ``repr`` shows no secret (both key types redact themselves)."""

    suite: CipherSuite = field(repr=False)
    signing_key: SigningKey
    storage_key: StorageKey
    identity: DeviceIdentity

    def __post_init__(self) -> None:
        if self.signing_key.scheme != self.suite.signature:
            raise ValueError(
                f"a {self.signing_key.scheme.name} key does not belong to {self.suite.name}"
            )

    def to_bytes(self) -> bytes:
        w = Writer()
        w.uint16(PAYLOAD_VERSION)
        w.uint16(self.suite.suite_id)
        w.opaque(self.signing_key.to_bytes())
        w.fixed(self.storage_key.to_bytes())
        self.identity.encode(w)
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> KeystorePayload:
        """Decode strictly; any failure is a :class:`KeystorePayloadError` without detail
        that could echo key bytes."""
        try:
            return decode_exact(data, cls._decode)
        except KeystorePayloadError:
            raise
        except (CasecircleError, ValueError, UnicodeDecodeError):
            raise KeystorePayloadError("the keystore payload is malformed") from None

    @classmethod
    def _decode(cls, r: Reader) -> KeystorePayload:
        version = r.uint16()
        if version != PAYLOAD_VERSION:
            raise KeystorePayloadError(
                f"keystore payload version {version} is not known to this casecircle"
            )
        suite = cipher_suite(r.uint16())
        signing_key = suite.signature.load_private_key(r.opaque())
        storage_key = StorageKey(r.fixed(STORAGE_KEY_SIZE))
        identity = DeviceIdentity.decode(r)
        return cls(suite=suite, signing_key=signing_key, storage_key=storage_key, identity=identity)


def check_relay_url(url: str) -> None:
    """Raise ``ValueError`` unless a profile can store ``url``; the commands check it before
    an invite is spent on a device whose profile could not hold the URL."""
    _check_relay_url(url)


def _check_relay_url(url: str) -> None:
    if not isinstance(url, str) or not url or len(url.encode("utf-8")) > MAX_RELAY_URL_BYTES:
        raise ValueError(f"a relay URL is 1 to {MAX_RELAY_URL_BYTES} bytes of text")
    if not url.isprintable() or " " in url:
        # urlsplit drops tabs and newlines and strips leading blanks: it would check another
        # URL than the one stored
        raise ValueError("a relay URL holds no spaces or control characters")
    parts = urlsplit(url)
    parts.port  # noqa: B018  (raises ValueError for a port that is not a number in range)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ValueError("a relay URL is an http or https URL with a host")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise ValueError("a relay URL carries no credentials and no fragment")
