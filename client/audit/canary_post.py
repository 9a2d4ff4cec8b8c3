"""Planting the canary (check 3): throwaway devices post marked content through the real client.

::

    coordinator ──invite×2──► canary 1, canary 2 enrol (approved by this coordinator only)
    canary 1: create case (title, pseudonym: markers) ─► add canary 2
    canary 1: note (marker) + file (name and content: markers) ─► relay
    canary 2: sync, read the note, download and open the file   (the markers did travel)
    coordinator: revoke both devices (logged; their case gets external Remove proposals)

Everything goes through the same library calls a member's desktop makes, so the relay
receives exactly what it receives in real use. The second device reading everything back
proves the markers passed through the relay; the search (:mod:`client.audit.canary`) then
proves they are not on its disk. Both devices are revoked however planting ends, so they
cannot be used afterwards; their credentials stay in the log, named "Audit canary", which
is how an audit shows up in the directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from client.audit.canary import CanaryMarkers, Marker, key_marker, text_marker
from client.audit.errors import CanaryError
from client.coordinator import Coordinator, InviteRecord
from client.enrolment import accept_invite
from client.member import Member
from client.profile import Profile
from client.random import SystemRandom
from crypto.errors import CasecircleError
from crypto.keystore import KeystoreParams
from protocol.case_items import HistoryPolicy, Note

CANARY_ORGANISATION = "casecircle audit"
CANARY_ROLE = "audit canary"
FILE_REPEATS = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class CanarySettings:
    """Keystore cost of the throwaway profiles (the production default unless a test lowers
    it) and how the enrolment is polled."""

    params: KeystoreParams | None = None
    insecure_floor_for_tests: KeystoreParams | None = None
    poll_interval: float = 0.5
    timeout: float = 120.0


Say = Callable[[str], None]


def _profile(path: Path, settings: CanarySettings) -> Profile:
    if settings.params is None:
        return Profile(path, insecure_floor_for_tests=settings.insecure_floor_for_tests)
    return Profile(
        path, params=settings.params, insecure_floor_for_tests=settings.insecure_floor_for_tests
    )


async def _enrol(
    coordinator: Coordinator, invite: InviteRecord, path: Path, settings: CanarySettings
) -> Member:
    rng = SystemRandom()
    passphrase = rng.random_bytes(16).hex()  # a throwaway profile: nobody opens it again
    enrolment = asyncio.create_task(
        accept_invite(
            _profile(path, settings),
            passphrase,
            coordinator.profile.identity.relay_url,
            invite.code,
            poll_interval=settings.poll_interval,
            timeout=settings.timeout,
        )
    )
    try:
        while not enrolment.done():
            await coordinator.process_enrolments([invite.code.invite_id])
            await asyncio.sleep(settings.poll_interval)
    finally:
        if not enrolment.done():
            enrolment.cancel()
    member = await Member.connect(await enrolment)
    if not isinstance(member, Member):
        raise CanaryError("the enrolled device did not connect as a member")
    return member


async def plant_canary(
    coordinator: Coordinator, workdir: Path, settings: CanarySettings, say: Say
) -> CanaryMarkers:
    """Post marked content through two throwaway devices; the markers to search for.

    ``coordinator`` must have the platform root attached (it approves and revokes).
    ``workdir`` holds the throwaway profiles and is the caller's to delete.
    """
    rng = SystemRandom()
    title, pseudonym, note, file_name, content = (
        text_marker(rng, label)
        for label in ("case title", "case pseudonym", "note text", "file name", "file content")
    )
    body = (b"Audit canary file. " + content.value + b"\n") * FILE_REPEATS
    invites = [
        coordinator.invite(f"Audit canary {n}", CANARY_ORGANISATION, CANARY_ROLE, valid_days=1)
        for n in (1, 2)
    ]
    members: list[Member] = []
    keys: list[Marker] = [
        key_marker(f"invite secret of canary {n}", invite.code.secret)
        for n, invite in enumerate(invites, start=1)
    ]
    try:
        for n, invite in enumerate(invites, start=1):
            member = await _enrol(coordinator, invite, workdir / f"canary-{n}", settings)
            members.append(member)
            keys.append(
                key_marker(f"signature key of canary {n}", member.profile.signing_key.to_bytes())
            )
            await member.publish_key_packages(2)
        say(f"   enrolled two throwaway devices at {coordinator.profile.identity.relay_url}")
        first, second = members
        case_id = await first.create_case(
            f"Audit canary – {title.value.decode()}", pseudonym.value.decode(), HistoryPolicy.FULL
        )
        await first.add_devices(case_id, [second.device_id])
        await second.sync()
        await first.post_note(
            case_id,
            f"Audit canary note – {note.value.decode()}",
            [(f"{file_name.value.decode()}.txt", "text/plain", body)],
        )
        await second.sync()
        keys.append(await _read_back(second, case_id, note, body))
        say("   the second device read the title, the note and the file back")
    except CasecircleError as exc:
        raise CanaryError(f"planting the canary failed: {exc.code}: {exc}") from exc
    finally:
        await _retire(coordinator, members)
    return CanaryMarkers(
        created_at=int(time.time()),
        relay_url=coordinator.profile.identity.relay_url,
        markers=(title, pseudonym, note, file_name, content, *keys),
    )


async def _read_back(member: Member, case_id: bytes, note: Marker, body: bytes) -> Marker:
    """Check the markers travelled; the file key, which must not be on the relay either."""
    summary = await member.summary(case_id)
    if summary.title is None or "Audit canary" not in summary.title:
        raise CanaryError("the canary case's title did not reach the second device")
    for shown in await member.notes(case_id):
        item = shown.stored.item
        if isinstance(item, Note) and note.value.decode() in item.text and item.attachments:
            attachment = item.attachments[0]
            if await member.download(attachment) != body:
                raise CanaryError("the canary file did not round-trip")
            return key_marker("attachment file key", attachment.ref.key.to_bytes())
    raise CanaryError("the canary note did not reach the second device")


async def _retire(coordinator: Coordinator, members: list[Member]) -> None:
    """Revoke and close every throwaway device, whatever happened before."""
    await coordinator.refresh_directory()
    for member in members:
        with contextlib.suppress(CasecircleError):
            await coordinator.revoke_device(member.device_id)
        await member.close()
