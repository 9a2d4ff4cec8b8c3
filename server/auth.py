"""Device login: a signed challenge, then a short-lived bearer token (ATTACKS.md D2).

::

    device                                   relay
      │ POST /v1/auth/challenge {device_id}    │  nonce ← 32 random bytes, kept until used
      │ ◄──── {nonce, relay_key, window} ───── │  or until the window closes
      │ sign(LoginChallenge) with the MLS       │
      │ signature key of its credential         │
      │ POST /v1/auth/session {.., signature} ─►│  challenge taken out (one use only), the
      │ ◄──────── {token, expires_at} ───────── │  device checked: known, in validity, not revoked
      │ Authorization: Bearer <token> ...      ─►│  SHA-256(token) looked up; device rechecked

The signed bytes are :func:`protocol.relay.login_message`, shared with the client.

A challenge is bound to this relay's identity key, to one device, to a random nonce and to
a time window; it is consumed by the first attempt to answer it, right or wrong, so a
replayed answer finds nothing. Tokens are 32 random bytes; the relay stores only their
SHA-256, so a copy of its database logs nobody in.

A logged-in device may use a coordinator's route (enrolment decisions, the groups view,
external proposals) only if the root certified it in the role
:data:`~protocol.directory.COORDINATOR_ROLE` (:func:`require_coordinator`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from crypto.errors import CasecircleError, CryptoError
from crypto.suites import SUPPORTED_SUITE_IDS, cipher_suite
from protocol.directory import COORDINATOR_ROLE, SignedDeviceCredential
from protocol.relay import login_message
from server.errors import (
    ChallengeError,
    DeviceRefusedError,
    NotCoordinatorError,
    OverloadedError,
    SessionExpiredError,
    UnauthorizedError,
)
from server.storage.interface import DeviceRecord, RelayStorage

NONCE_SIZE = 32
TOKEN_SIZE = 32
MAX_REMEMBERED_BEARERS = 65_536


def token_hash(token: bytes) -> bytes:
    return hashlib.sha256(token).digest()


def encode_token(token: bytes) -> str:
    return base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")


def decode_token(text: str) -> bytes:
    """The token bytes of a bearer string; ``UnauthorizedError`` for anything malformed."""
    if len(text) != 43 or not text.isascii():
        raise UnauthorizedError("malformed session token")
    try:
        token = base64.urlsafe_b64decode(text + "=")
    except ValueError:
        raise UnauthorizedError("malformed session token") from None
    if len(token) != TOKEN_SIZE or encode_token(token) != text:
        raise UnauthorizedError("malformed session token")
    return token


def require_coordinator(device: DeviceRecord) -> None:
    """Refuse a device the root did not certify as the coordinator's.

    The role is read from the device's stored credential, which the relay checked against
    the platform root when it was published: that signature is the only source of the
    role, so no column can drift from it and devices published before this check existed
    are judged alike.
    """
    try:
        role = SignedDeviceCredential.from_bytes(device.credential).credential.role
    except (CasecircleError, ValueError):  # stored bytes this relay can no longer read
        role = None
    if role != COORDINATOR_ROLE:
        raise NotCoordinatorError("only the coordinator's devices may do this")


@dataclass(frozen=True, slots=True, kw_only=True)
class Challenge:
    device_id: bytes
    nonce: bytes
    issued_at: int
    expires_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedSession:
    token: bytes
    expires_at: int


class Authenticator:
    """Issues challenges, turns answered ones into sessions, and checks bearer tokens."""

    def __init__(
        self,
        storage: RelayStorage,
        relay_public_key: bytes,
        *,
        challenge_ttl: int,
        max_challenges: int,
        session_ttl: int,
    ) -> None:
        self._storage = storage
        self._relay_public_key = relay_public_key
        self._challenge_ttl = challenge_ttl
        self._max_challenges = max_challenges
        self._session_ttl = session_ttl
        self._challenges: dict[bytes, Challenge] = {}
        self._bearer_hashes: dict[str, bytes] = {}

    @property
    def relay_public_key(self) -> bytes:
        return self._relay_public_key

    async def _usable_device(self, device_id: bytes, now: int) -> DeviceRecord:
        return self._usable(await self._storage.device(device_id), now)

    @staticmethod
    def _usable(device: DeviceRecord | None, now: int) -> DeviceRecord:
        if device is None or not device.usable_at(now):
            raise DeviceRefusedError(
                "the device is unknown, not yet or no longer valid, or revoked"
            )
        return device

    async def challenge(self, device_id: bytes, now: int) -> Challenge:
        await self._usable_device(device_id, now)
        if len(self._challenges) >= self._max_challenges:
            self._forget_expired(now)
            if len(self._challenges) >= self._max_challenges:
                raise OverloadedError("too many logins in progress")
        challenge = Challenge(
            device_id=device_id,
            nonce=os.urandom(NONCE_SIZE),
            issued_at=now,
            expires_at=now + self._challenge_ttl,
        )
        self._challenges[challenge.nonce] = challenge
        return challenge

    def message_for(self, challenge: Challenge) -> bytes:
        return login_message(
            self._relay_public_key,
            challenge.device_id,
            challenge.nonce,
            challenge.issued_at,
            challenge.expires_at,
        )

    async def login(
        self, device_id: bytes, nonce: bytes, signature: bytes, now: int
    ) -> IssuedSession:
        challenge = self._challenges.pop(nonce, None)  # one attempt per challenge
        if challenge is None or not hmac.compare_digest(challenge.device_id, device_id):
            raise ChallengeError("no such challenge for this device (used, expired or unknown)")
        if not challenge.issued_at <= now <= challenge.expires_at:
            raise ChallengeError("the challenge expired")
        device = await self._usable_device(device_id, now)
        if device.cipher_suite not in SUPPORTED_SUITE_IDS:
            raise DeviceRefusedError("the device's cipher suite is not supported")
        try:
            cipher_suite(device.cipher_suite).signature.verify(
                device.signature_key, self.message_for(challenge), signature
            )
        except CryptoError:
            raise ChallengeError("the challenge signature does not verify") from None
        token = os.urandom(TOKEN_SIZE)
        expires_at = min(now + self._session_ttl, device.not_after)
        await self._storage.create_session(token_hash(token), device_id, expires_at)
        return IssuedSession(token=token, expires_at=expires_at)

    async def authenticate(self, bearer: str, now: int) -> DeviceRecord:
        """The device a bearer token belongs to; every check is redone on each request."""
        found = await self._storage.session_device(self._hash_of(bearer))
        if found is None:
            raise UnauthorizedError("unknown session token")
        session, device = found
        if now > session.expires_at:
            raise SessionExpiredError("the session expired; log in again")
        return self._usable(device, now)

    def _hash_of(self, bearer: str) -> bytes:
        """SHA-256 of the token a bearer string encodes, remembered (bounded): the mapping
        never changes, and a device sends the same bearer with each of its requests."""
        hashed = self._bearer_hashes.get(bearer)
        if hashed is None:
            hashed = token_hash(decode_token(bearer))
            if len(self._bearer_hashes) >= MAX_REMEMBERED_BEARERS:
                self._bearer_hashes.clear()
            self._bearer_hashes[bearer] = hashed
        return hashed

    def _forget_expired(self, now: int) -> None:
        for nonce in [n for n, c in self._challenges.items() if c.expires_at < now]:
            del self._challenges[nonce]
