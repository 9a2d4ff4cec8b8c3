"""A new device accepting an invite (DESIGN §5): pin the platform root, prove the invite
code, wait for the coordinator's approval, then create the device's profile.

::

    member's device                      relay                       coordinator
      GET /v1/platform ────────────────►  root key ── prefix must match the invite code
      POST /v1/enrolments {invite_id, device_id, request(MAC, possession)}
                                          pending ──────────────────► checks MAC, signs,
                                                                       publishes credential
      GET /v1/enrolments/{invite_id} ──►  approved
      replay the log: our credential must be there, for our key and device id
      profile created (Argon2id keystore) ── done

The signing key lives only in memory until approval: an interrupted enrolment leaves
nothing on disk, and the one-time invite must be issued again.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from client.directory import Directory, UnknownCredentialError
from client.keystore_payload import DeviceIdentity
from client.profile import Profile, UnlockedProfile
from client.random import SystemRandom
from client.relay_api import RelayApi
from crypto.random import RandomSource
from crypto.suites import DEFAULT_SUITE_ID, cipher_suite
from protocol.directory import (
    ID_SIZE,
    CredentialKeyMismatchError,
    DeviceCredential,
    DirectoryError,
)
from protocol.errors import ValidationError
from protocol.invites import InviteCode, make_enrolment_request


class EnrolmentRejectedError(ValidationError):
    """The coordinator rejected the request (for example: the code was mistyped)."""

    code = "enrolment_rejected"


class EnrolmentTimeoutError(ValidationError):
    code = "enrolment_timeout"


async def accept_invite(
    profile: Profile,
    passphrase: str,
    relay_url: str,
    code: InviteCode,
    *,
    rng: RandomSource | None = None,
    poll_interval: float = 1.0,
    timeout: float = 24 * 3600,
    suite_id: int = DEFAULT_SUITE_ID,
) -> UnlockedProfile:
    """Enrol this device with ``code`` and return its new, unlocked profile."""
    rng = rng if rng is not None else SystemRandom()
    suite = cipher_suite(suite_id)
    async with aiohttp.ClientSession() as http:
        api = RelayApi(relay_url, http)
        root, relay_key = await api.platform()
        if root is None:
            raise DirectoryError("the relay has no platform root")
        code.check_platform(root)
        signing_key = suite.signature.generate(rng)
        device_id = rng.random_bytes(ID_SIZE)
        request = make_enrolment_request(code, device_id, signing_key, suite_id, int(time.time()))
        await api.request_enrolment(code.invite_id, device_id, request.to_bytes())
        deadline = time.monotonic() + timeout
        while True:
            status = await api.enrolment_status(code.invite_id)
            if status == "approved":
                break
            if status == "rejected":
                raise EnrolmentRejectedError("the coordinator rejected this enrolment")
            if time.monotonic() > deadline:
                raise EnrolmentTimeoutError("no approval in time; ask for a new invite")
            await asyncio.sleep(poll_interval)
        directory = Directory(root, relay_key)
        credential = await _own_credential(directory, api, device_id, deadline, poll_interval)
        if (
            credential.signature_key != signing_key.public_key
            or credential.invite_id != code.invite_id
        ):
            raise CredentialKeyMismatchError("the issued credential is not for this device's key")
    identity = DeviceIdentity(
        device_id=device_id,
        member_id=credential.member_id,
        platform_root_public_key=root,
        relay_url=relay_url,
    )
    return await profile.create(passphrase, identity=identity, suite=suite, signing_key=signing_key)


async def _own_credential(
    directory: Directory, api: RelayApi, device_id: bytes, deadline: float, poll_interval: float
) -> DeviceCredential:
    """Our credential from the replayed log. The relay answers "approved" once the
    credential is stored; its signed tree head may count the entry a moment later."""
    while True:
        await directory.refresh(api)
        try:
            return directory.device(device_id, int(time.time()))
        except UnknownCredentialError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(poll_interval)


def profile_at(path: Path | str) -> Profile:
    return Profile(path)
