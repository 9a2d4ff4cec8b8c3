"""The coordinator: the platform's Authentication Service (DESIGN §1, §5).

It holds the platform root key, invites members, approves enrolments after checking each
device's proof of the invite code, issues and logs credentials, and revokes devices. It is
not a member of any case and holds no case key: it can propose that a revoked device be
removed (an MLS external Remove proposal), which the next member online commits.

Files in the coordinator's profile directory, besides the device profile::

    platform-root     the root signing key, in a keystore of its own (Argon2id, same
                      passphrase), opened only for the operations that sign
    invites           the invite book, sealed under the profile's storage key: each
                      invite's secret is needed to check the request made with it
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Self

import aiohttp

from client.device import Device
from client.directory import Directory, IssuedDevice
from client.keystore_payload import DeviceIdentity
from client.profile import Profile, ProfileIOError, UnlockedProfile, replace_durably
from client.random import SystemRandom
from client.relay_api import RelayApi
from client.sealed_fields import FieldSealer, row_key
from crypto.keystore import DEFAULT_PARAMS, KeystoreParams, open_keystore, seal_keystore
from crypto.random import RandomSource
from crypto.signatures import ED25519, SigningKey
from crypto.suites import DEFAULT_SUITE_ID, cipher_suite
from protocol.codec import Reader, Struct, Writer, decode_exact
from protocol.directory import (
    COORDINATOR_ROLE,
    ID_SIZE,
    DeviceCredential,
    Revocation,
    RevocationReason,
    check_device_credential,
    platform_fingerprint,
    sign_device_credential,
    sign_revocation,
)
from protocol.errors import ValidationError
from protocol.invites import EnrolmentRequest, InviteCode, InviteError, verify_enrolment_request
from protocol.mls.external_sender import external_proposal
from protocol.mls.proposals import Proposal, Remove

ROOT_FILE = "platform-root"
INVITES_FILE = "invites"
DAY = 24 * 3600


class CoordinatorError(ValidationError):
    code = "coordinator"


class UnknownInviteError(CoordinatorError):
    code = "unknown_invite"


class InviteStatus(StrEnum):
    OPEN = "open"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class InviteRecord(Struct):
    """What the coordinator remembers of one invite."""

    code: InviteCode
    member_id: bytes
    display_name: str
    organisation: str
    role: str
    created_at: int
    expires_at: int
    credential_days: int
    device_id: bytes = b""  # set once a device was enrolled with it

    def __repr__(self) -> str:
        return f"InviteRecord({self.display_name!r}, {self.organisation!r}, <secret>)"

    def status(self, now: int) -> InviteStatus:
        if self.device_id:
            return InviteStatus.USED
        if now > self.expires_at:
            return InviteStatus.EXPIRED
        return InviteStatus.OPEN

    def encode(self, w: Writer) -> None:
        w.fixed(self.code.to_bytes())
        w.fixed(self.member_id)
        for text in (self.display_name, self.organisation, self.role):
            w.opaque(text.encode("utf-8"))
        w.uint64(self.created_at)
        w.uint64(self.expires_at)
        w.uint32(self.credential_days)
        w.opaque(self.device_id)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            code=InviteCode.from_bytes(r.fixed(32)),
            member_id=r.fixed(ID_SIZE),
            display_name=r.opaque().decode("utf-8"),
            organisation=r.opaque().decode("utf-8"),
            role=r.opaque().decode("utf-8"),
            created_at=r.uint64(),
            expires_at=r.uint64(),
            credential_days=r.uint32(),
            device_id=r.opaque(),
        )


def create_root(
    profile: Profile,
    passphrase: str,
    rng: RandomSource,
    *,
    params: KeystoreParams | None = None,
    insecure_floor_for_tests: KeystoreParams | None = None,
) -> bytes:
    """Make the platform root key in ``profile``'s directory; its public key.

    The relay is started with this public key; then :func:`register_coordinator`."""
    root_dir = profile.layout.root
    try:
        root_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ProfileIOError(f"{root_dir} could not be created") from exc
    path = root_dir / ROOT_FILE
    if path.exists():
        raise CoordinatorError("this directory already holds a platform root")
    key = ED25519.generate(rng)
    sealed = seal_keystore(
        passphrase.encode("utf-8"),
        key.to_bytes(),
        params or DEFAULT_PARAMS,
        1,
        rng,
        insecure_floor_for_tests=insecure_floor_for_tests,
    )
    replace_durably(path, sealed)
    return key.public_key


def open_root(
    root_dir: Path, passphrase: str, *, insecure_floor_for_tests: KeystoreParams | None = None
) -> SigningKey:
    data = (root_dir / ROOT_FILE).read_bytes()
    payload, _ = open_keystore(
        passphrase.encode("utf-8"), data, insecure_floor_for_tests=insecure_floor_for_tests
    )
    return ED25519.load_private_key(payload)


async def register_coordinator(
    profile: Profile,
    passphrase: str,
    relay_url: str,
    display_name: str,
    organisation: str,
    *,
    rng: RandomSource | None = None,
    insecure_floor_for_tests: KeystoreParams | None = None,
    validity_days: int = 365,
) -> UnlockedProfile:
    """Issue and log the coordinator's own device credential, and create its profile."""
    rng = rng if rng is not None else SystemRandom()
    root = open_root(
        profile.layout.root, passphrase, insecure_floor_for_tests=insecure_floor_for_tests
    )
    suite = cipher_suite(DEFAULT_SUITE_ID)
    signing_key = suite.signature.generate(rng)
    now = int(time.time())
    credential = DeviceCredential(
        platform_id=platform_fingerprint(root.public_key),
        member_id=rng.random_bytes(ID_SIZE),
        device_id=rng.random_bytes(ID_SIZE),
        display_name=display_name,
        organisation=organisation,
        role=COORDINATOR_ROLE,
        signature_key=signing_key.public_key,
        cipher_suite=suite.suite_id,
        not_before=now - 300,
        not_after=now + validity_days * DAY,
        invite_id=rng.random_bytes(ID_SIZE),
    )
    async with aiohttp.ClientSession() as http:
        api = RelayApi(relay_url, http)
        served_root, _ = await api.platform()
        if served_root != root.public_key:
            raise CoordinatorError("the relay was started with another platform root")
        await api.publish_credential(sign_device_credential(root, credential).to_bytes())
    identity = DeviceIdentity(
        device_id=credential.device_id,
        member_id=credential.member_id,
        platform_root_public_key=root.public_key,
        relay_url=relay_url,
    )
    return await profile.create(passphrase, identity=identity, suite=suite, signing_key=signing_key)


async def start_coordinator(
    profile: Profile,
    passphrase: str,
    relay_url: str,
    display_name: str,
    organisation: str,
    *,
    insecure_floor_for_tests: KeystoreParams | None = None,
) -> Coordinator:
    """A new platform's first start: the coordinator's device registered and logged in,
    with the platform root attached so it can issue credentials."""
    unlocked = await register_coordinator(
        profile,
        passphrase,
        relay_url,
        display_name,
        organisation,
        insecure_floor_for_tests=insecure_floor_for_tests,
    )
    coordinator = await Coordinator.connect(unlocked)
    if not isinstance(coordinator, Coordinator):
        raise CoordinatorError("the coordinator's profile opened as another kind of device")
    coordinator.attach_root(
        open_root(
            profile.layout.root, passphrase, insecure_floor_for_tests=insecure_floor_for_tests
        )
    )
    return coordinator


def _check_request_device(request: EnrolmentRequest, device_id: bytes) -> None:
    if request.device_id != device_id:
        raise InviteError("the request names another device than the relay says")


@dataclass(frozen=True, slots=True)
class Approval:
    invite: InviteRecord
    device_id: bytes
    approved: bool
    reason: str


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A device's request waiting at the relay; ``invite`` is ours, or ``None`` for an
    invite id this coordinator never issued (another coordinator's, or a guess)."""

    invite_id: bytes
    device_id: bytes
    received_at: int
    invite: InviteRecord | None


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """One member as the log shows them: the names of their latest credential, and every
    device ever issued to them, in log order."""

    member_id: bytes
    display_name: str
    organisation: str
    role: str
    devices: tuple[IssuedDevice, ...]


def members_in_log(directory: Directory) -> list[MemberRecord]:
    """Every member the replayed log knows, in the order they first appear."""
    by_member: dict[bytes, list[IssuedDevice]] = {}
    for issued in directory.devices():
        by_member.setdefault(issued.credential.member_id, []).append(issued)
    records = []
    for member_id, devices in by_member.items():
        latest = devices[-1].credential
        records.append(
            MemberRecord(
                member_id=member_id,
                display_name=latest.display_name,
                organisation=latest.organisation,
                role=latest.role,
                devices=tuple(devices),
            )
        )
    return records


class Coordinator(Device):
    """The coordinator's device, with access to the root key while it is open."""

    root: SigningKey

    def attach_root(self, root: SigningKey) -> None:
        if root.public_key != self.profile.identity.platform_root_public_key:
            raise CoordinatorError("this root key is not the platform's")
        self.root = root

    # --- the invite book ----------------------------------------------------------------

    def _book_path(self) -> Path:
        return self.profile.layout.root / INVITES_FILE

    def _sealer(self) -> FieldSealer:
        return FieldSealer(self.profile.storage_key, self.rng)

    def invites(self) -> list[InviteRecord]:
        path = self._book_path()
        if not path.exists():
            return []
        data = self._sealer().open("invites", "book", row_key(b"book"), path.read_bytes())
        return decode_exact(data, lambda r: r.vector(InviteRecord.decode))

    def _save_invites(self, invites: list[InviteRecord]) -> None:
        w = Writer()
        w.vector(invites, Struct.write)
        sealed = self._sealer().seal("invites", "book", row_key(b"book"), w.getvalue())
        replace_durably(self._book_path(), sealed)

    def invite(
        self,
        display_name: str,
        organisation: str,
        role: str,
        *,
        valid_days: int = 7,
        credential_days: int = 365,
        member_id: bytes | None = None,
    ) -> InviteRecord:
        """A one-time invite for a named member (a new one, or another device of ``member_id``)."""
        if role == COORDINATOR_ROLE:
            raise CoordinatorError("coordinator devices are not enrolled by invite")
        now = self.clock()
        record = InviteRecord(
            code=InviteCode.generate(self.root.public_key, self.rng),
            member_id=member_id if member_id is not None else self.rng.random_bytes(ID_SIZE),
            display_name=display_name,
            organisation=organisation,
            role=role,
            created_at=now,
            expires_at=now + valid_days * DAY,
            credential_days=credential_days,
        )
        # The directory's field rules run now, so a bad name fails here and not at approval.
        check_device_credential(
            self._credential_for(record, b"\0" * ID_SIZE, self.root.public_key, now)
        )
        self._save_invites([*self.invites(), record])
        return record

    def _credential_for(
        self, record: InviteRecord, device_id: bytes, key: bytes, now: int, suite_id: int = 1
    ) -> DeviceCredential:
        return DeviceCredential(
            platform_id=platform_fingerprint(self.root.public_key),
            member_id=record.member_id,
            device_id=device_id,
            display_name=record.display_name,
            organisation=record.organisation,
            role=record.role,
            signature_key=key,
            cipher_suite=suite_id,
            not_before=now - 300,
            not_after=now + record.credential_days * DAY,
            invite_id=record.code.invite_id,
        )

    async def pending_requests(
        self, invites: Iterable[InviteRecord] | None = None
    ) -> list[PendingRequest]:
        """Every request waiting at the relay, with the invite of ours it names (read-only;
        ``invites`` is the book when the caller has just read it)."""
        book = {r.code.invite_id: r for r in (self.invites() if invites is None else invites)}
        return [
            PendingRequest(invite_id, device_id, received_at, book.get(invite_id))
            for invite_id, device_id, _, received_at in await self.api.pending_enrolments()
        ]

    async def process_enrolments(
        self, invite_ids: Collection[bytes] | None = None
    ) -> list[Approval]:
        """Check every pending request against its invite (or only those under
        ``invite_ids``); approve the good ones (issue and log the credential) and reject the
        rest."""
        invites = {r.code.invite_id: r for r in self.invites()}
        results: list[Approval] = []
        now = self.clock()
        changed = False
        for invite_id, device_id, raw, _ in await self.api.pending_enrolments():
            record = invites.get(invite_id)
            if record is None:
                continue  # another coordinator's invite, or a guess: leave it
            if invite_ids is not None and invite_id not in invite_ids:
                continue
            try:
                if record.device_id:
                    raise CoordinatorError("this invite was used already")
                if now > record.expires_at:
                    raise CoordinatorError("the invite expired")
                request = EnrolmentRequest.from_bytes(raw)
                _check_request_device(request, device_id)
                verify_enrolment_request(request, record.code, now)
                credential = self._credential_for(
                    record, device_id, request.signature_key, now, request.cipher_suite
                )
                signed = sign_device_credential(self.root, credential)
            except (ValidationError, InviteError) as exc:
                await self.api.reject_enrolment(invite_id)
                await self.record(exc, device_id=device_id)
                results.append(Approval(record, device_id, False, exc.code))
                continue
            await self.api.publish_credential(signed.to_bytes())
            invites[invite_id] = replace(record, device_id=device_id)
            changed = True
            results.append(Approval(record, device_id, True, "approved"))
        if changed:
            self._save_invites(list(invites.values()))
            await self.refresh_directory()
        return results

    # --- revocation ---------------------------------------------------------------------

    async def revoke_device(
        self, device_id: bytes, reason: RevocationReason = RevocationReason.UNSPECIFIED
    ) -> int:
        """Revoke and log; then propose the device's removal from every case it is in."""
        issued = next(
            (d for d in self.directory.devices() if d.credential.device_id == device_id), None
        )
        if issued is None:
            raise CoordinatorError("no such device in the log")
        revocation = Revocation(
            platform_id=platform_fingerprint(self.root.public_key),
            device_id=device_id,
            member_id=issued.credential.member_id,
            revoked_at=self.clock(),
            reason=reason,
        )
        index = await self.api.publish_revocation(sign_revocation(self.root, revocation).to_bytes())
        await self.refresh_directory()
        await self.propose_removals()
        return index

    async def revoke_member(self, member_id: bytes) -> list[bytes]:
        revoked = []
        for issued in self.directory.member_devices(member_id):
            if issued.revocation is None:
                await self.revoke_device(issued.credential.device_id, RevocationReason.MEMBER_LEFT)
                revoked.append(issued.credential.device_id)
        return revoked

    async def propose_removals(self) -> int:
        """For every case whose roster still holds a revoked device, send an external Remove
        proposal for the device's declared leaf; the next member online commits it."""
        sent = 0
        own_key = self.profile.signing_key
        for group_id, epoch, roster in await self.api.coordinator_groups():
            for device_id, leaf in roster.items():
                if leaf is None or not self.directory.is_revoked(device_id):
                    continue
                proposal = Proposal(body=Remove(removed=leaf))
                message = external_proposal(self.suite, own_key, 0, group_id, epoch, proposal)
                await self.api.send_external(group_id, self.rng.random_bytes(16).hex(), message)
                sent += 1
        return sent
