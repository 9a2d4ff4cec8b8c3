"""``casecircle coordinator …``: the platform manager's commands (DESIGN §1, §5).

A thin shell over :mod:`client.coordinator`. The coordinator's profile directory holds its
device profile, the platform root (``platform-root``) and the invite book, all under one
passphrase. The root is opened only by the commands that sign (invite, approve, revoke);
no command here can read a case: the coordinator holds no case key.

::

    create-platform   root key ─► start the relay with it ─► register (own device)
    invite            one-time code as words (+ QR image) ─► member runs `casecircle accept`
    pending/approve   the device's MAC is checked with the invite secret, then the root signs
    members/devices   the replayed transparency log
    cases             the relay's delivery view: who is in which case, never what it says
    revoke-*          signed, logged; external Remove proposals to every case concerned
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from client.cli_session import (
    EXIT_FAILED,
    CommandError,
    add_profile_arguments,
    check_new_passphrase,
    checked_relay_url,
    connected,
    console_of,
    create_new_file,
    device_line,
    device_status,
    profile_of,
    read_passphrase,
    require_new_profile,
    resolve_id,
    run_async,
    settings_of,
    shown,
    when,
)
from client.coordinator import (
    ROOT_FILE,
    Coordinator,
    InviteStatus,
    create_root,
    members_in_log,
    open_root,
    register_coordinator,
)
from client.enrolment import EnrolmentTimeoutError
from client.invite_codes import LANGUAGES, InviteFileError, qr_png, wordlist, words_of
from client.random import SystemRandom
from protocol.directory import RevocationReason, platform_fingerprint

REASONS = {
    "unspecified": RevocationReason.UNSPECIFIED,
    "device-lost": RevocationReason.DEVICE_LOST,
    "key-compromise": RevocationReason.KEY_COMPROMISE,
    "member-left": RevocationReason.MEMBER_LEFT,
    "superseded": RevocationReason.SUPERSEDED,
}
WORDS_PER_LINE = 6


@asynccontextmanager
async def _coordinator(args: argparse.Namespace, *, root: bool) -> AsyncIterator[Coordinator]:
    """The coordinator's device, connected; with the platform root open if ``root``."""
    settings = settings_of(args)
    profile = profile_of(args)
    passphrase = read_passphrase(args)
    opened = await profile.unlock(passphrase)
    try:
        async with connected(opened, Coordinator) as coordinator:
            if root:
                if not (profile.layout.root / ROOT_FILE).is_file():
                    raise CommandError(f"{profile.layout.root} holds no platform root")
                key = await asyncio.to_thread(
                    open_root,
                    profile.layout.root,
                    passphrase,
                    insecure_floor_for_tests=settings.insecure_floor_for_tests,
                )
                coordinator.attach_root(key)
            yield coordinator
    finally:
        await opened.lock()


# --- platform -----------------------------------------------------------------------------


async def _create_platform(args: argparse.Namespace) -> int:
    console, settings = console_of(args), settings_of(args)
    profile = profile_of(args)
    passphrase = read_passphrase(args, new=True)
    public_key = await asyncio.to_thread(
        create_root,
        profile,
        passphrase,
        SystemRandom(),
        params=settings.params,
        insecure_floor_for_tests=settings.insecure_floor_for_tests,
    )
    console.say(f"platform root public key: {public_key.hex()}")
    console.say(f"platform fingerprint:     {platform_fingerprint(public_key).hex()}")
    console.say("")
    console.say(f"Back up {profile.layout.root / ROOT_FILE} offline. Next:")
    console.say(f"  casecircle server --data-dir DIR --root-key {public_key.hex()}")
    console.say(
        f"  casecircle coordinator register --profile {profile.layout.root} --relay URL "
        "--name NAME --organisation ORG"
    )
    return 0


async def _register(args: argparse.Namespace) -> int:
    console, settings = console_of(args), settings_of(args)
    profile = profile_of(args)
    if not (profile.layout.root / ROOT_FILE).is_file():
        raise CommandError(f"{profile.layout.root} holds no platform root: create-platform first")
    require_new_profile(profile)
    relay_url = checked_relay_url(args.relay)
    passphrase = read_passphrase(args)
    check_new_passphrase(passphrase)
    opened = await register_coordinator(
        profile,
        passphrase,
        relay_url,
        args.name,
        args.organisation,
        insecure_floor_for_tests=settings.insecure_floor_for_tests,
        validity_days=args.validity_days,
    )
    try:
        identity = opened.identity
        console.say(f"coordinator device {identity.device_id.hex()} registered at {relay_url}")
        console.say(f"member id {identity.member_id.hex()}; valid {args.validity_days} days")
    finally:
        await opened.lock()
    return 0


# --- invites and enrolment ----------------------------------------------------------------


async def _invite(args: argparse.Namespace) -> int:
    console = console_of(args)
    qr_path: Path | None = args.qr
    if qr_path is not None and qr_path.exists():
        raise InviteFileError(f"{qr_path} exists already; choose a new file name")
    async with _coordinator(args, root=True) as coordinator:
        member_id = None
        if args.member_id is not None:
            known = [d.credential.member_id for d in coordinator.directory.devices()]
            member_id = resolve_id(args.member_id, known, "member")
        record = coordinator.invite(
            args.name,
            args.organisation,
            args.role,
            valid_days=args.valid_days,
            credential_days=args.credential_days,
            member_id=member_id,
        )
        relay_url = coordinator.profile.identity.relay_url
    words = words_of(record.code, args.language)
    console.say(f"Invite for {record.display_name} ({record.organisation}), role {record.role}")
    console.say(f"  invite id    {record.code.invite_id.hex()}")
    console.say(f"  member id    {record.member_id.hex()}")
    console.say(
        f"  valid until  {when(record.expires_at)}; the credential then lasts "
        f"{record.credential_days} days"
    )
    console.say("")
    console.say(f"Invite code ({len(words)} words, {wordlist(args.language).language}):")
    for start in range(0, len(words), WORDS_PER_LINE):
        console.say("  " + " ".join(words[start : start + WORDS_PER_LINE]))
    if qr_path is not None:
        create_new_file(qr_path, qr_png(record.code), InviteFileError)
        console.say(f"QR code: {qr_path} (as secret as the words)")
    console.say("")
    console.say("Hand the code over in person or on a channel apart from the relay. On the")
    console.say("member's computer:")
    console.say(f"  casecircle accept --profile DIR --relay {relay_url}")
    return 0


async def _invites(args: argparse.Namespace) -> int:
    console = console_of(args)
    now = int(time.time())
    async with _coordinator(args, root=False) as coordinator:
        records = coordinator.invites()
    for record in records:
        match record.status(now):
            case InviteStatus.USED:
                status = f"used by device {record.device_id.hex()}"
            case InviteStatus.EXPIRED:
                status = "expired"
            case InviteStatus.OPEN:
                status = f"open until {when(record.expires_at)}"
        console.say(
            f"{record.code.invite_id.hex()}  {record.display_name} ({record.organisation}),"
            f" {record.role}: {status}"
        )
    if not records:
        console.say("no invites yet")
    return 0


async def _pending(args: argparse.Namespace) -> int:
    console = console_of(args)
    async with _coordinator(args, root=False) as coordinator:
        requests = await coordinator.pending_requests()
    for request in requests:
        invite = request.invite
        whose = (
            f"{invite.display_name} ({invite.organisation})"
            if invite is not None
            else "not an invite of yours: left alone"
        )
        console.say(
            f"{request.invite_id.hex()}  device {request.device_id.hex()}"
            f"  received {when(request.received_at)}  {whose}"
        )
    if not requests:
        console.say("no enrolment requests are waiting")
    return 0


async def _approve(args: argparse.Namespace) -> int:
    console, settings = console_of(args), settings_of(args)
    async with _coordinator(args, root=True) as coordinator:
        invite_ids = None
        if args.invite:
            known = [r.code.invite_id for r in coordinator.invites()]
            invite_ids = {resolve_id(typed, known, "invite") for typed in args.invite}
        deadline = time.monotonic() + args.wait
        while True:
            results = await coordinator.process_enrolments(invite_ids)
            if results or time.monotonic() >= deadline:
                break
            await asyncio.sleep(settings.poll_interval)
    if not results:
        if args.wait > 0:
            raise EnrolmentTimeoutError(f"no enrolment request arrived in {args.wait:g} s")
        console.say("no enrolment requests under your invites")
        return 0
    for result in results:
        who = f"{result.invite.display_name} ({result.invite.organisation})"
        if result.approved:
            console.say(f"approved  {who}: device {result.device_id.hex()} certified and logged")
        else:
            console.say(f"REJECTED  {who}: device {result.device_id.hex()}: {result.reason}")
    return 0 if all(r.approved for r in results) else EXIT_FAILED


# --- the log and the cases ----------------------------------------------------------------


async def _members(args: argparse.Namespace) -> int:
    console = console_of(args)
    now = int(time.time())
    async with _coordinator(args, root=False) as coordinator:
        members = members_in_log(coordinator.directory)
    for member in members:
        usable = sum(1 for d in member.devices if device_status(d, now).startswith("active"))
        console.say(
            f"{member.member_id.hex()}  {shown(member.display_name)}"
            f" ({shown(member.organisation)}), {shown(member.role)}:"
            f" {len(member.devices)} device(s), {usable} active"
        )
    return 0


async def _devices(args: argparse.Namespace) -> int:
    console = console_of(args)
    now = int(time.time())
    async with _coordinator(args, root=False) as coordinator:
        devices = coordinator.directory.devices()
        if args.member is not None:
            member_id = resolve_id(args.member, [d.credential.member_id for d in devices], "member")
            devices = coordinator.directory.member_devices(member_id)
    for issued in devices:
        console.say(device_line(issued, now))
    return 0


async def _cases(args: argparse.Namespace) -> int:
    console = console_of(args)
    async with _coordinator(args, root=False) as coordinator:
        groups = await coordinator.api.coordinator_groups()
        issued = {d.credential.device_id: d for d in coordinator.directory.devices()}
    for group_id, epoch, roster in groups:
        console.say(f"case {group_id.hex()}  epoch {epoch}  {len(roster)} device(s)")
        for device_id, leaf in sorted(roster.items(), key=lambda item: (item[1] is None, item)):
            known = issued.get(device_id)
            who = (
                f"{shown(known.credential.display_name)} ({shown(known.credential.organisation)})"
                if known is not None
                else "not in the log"
            )
            flag = "  REVOKED: removal pending" if known and known.revocation else ""
            where = f"leaf {leaf}" if leaf is not None else "leaf not declared"
            console.say(f"  {device_id.hex()}  {where}  {who}{flag}")
    if not groups:
        console.say("no cases at the relay")
    return 0


# --- revocation ---------------------------------------------------------------------------


async def _revoke_device(args: argparse.Namespace) -> int:
    console = console_of(args)
    async with _coordinator(args, root=True) as coordinator:
        known = [d.credential.device_id for d in coordinator.directory.devices()]
        device_id = resolve_id(args.device, known, "device")
        index = await coordinator.revoke_device(device_id, REASONS[args.reason])
    console.say(f"device {device_id.hex()} revoked (log entry {index});")
    console.say("removal proposed in every case it is in: the next member online commits it")
    return 0


async def _revoke_member(args: argparse.Namespace) -> int:
    console = console_of(args)
    async with _coordinator(args, root=True) as coordinator:
        known = [d.credential.member_id for d in coordinator.directory.devices()]
        member_id = resolve_id(args.member, known, "member")
        revoked = await coordinator.revoke_member(member_id)
    for device_id in revoked:
        console.say(f"device {device_id.hex()} revoked")
    console.say(f"member {member_id.hex()}: {len(revoked)} device(s) revoked")
    return 0


async def _propose_removals(args: argparse.Namespace) -> int:
    console = console_of(args)
    async with _coordinator(args, root=False) as coordinator:
        sent = await coordinator.propose_removals()
    console.say(f"{sent} removal proposal(s) sent")
    return 0


# --- the parser ---------------------------------------------------------------------------


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    coordinator = commands.add_parser(
        "coordinator", help="the platform manager: platform, invites, enrolment, revocation"
    )
    sub = coordinator.add_subparsers(dest="coordinator_command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text, description=help_text)
        add_profile_arguments(parser)
        return parser

    p = command("create-platform", "make the platform root key (start the relay with it)")
    p.set_defaults(handler=run_async(_create_platform))

    p = command("register", "issue and log this coordinator's own device credential")
    p.add_argument("--relay", required=True, help="the relay's URL")
    p.add_argument("--name", required=True, help="your display name")
    p.add_argument("--organisation", required=True)
    p.add_argument("--validity-days", type=int, default=365)
    p.set_defaults(handler=run_async(_register))

    p = command("invite", "a one-time invite code for a named member, as words (and a QR code)")
    p.add_argument("--name", required=True, help="the member's display name")
    p.add_argument("--organisation", required=True)
    p.add_argument("--role", required=True, help="e.g. 'police officer', 'nurse'")
    p.add_argument("--valid-days", type=int, default=7, help="how long the code can be used")
    p.add_argument("--credential-days", type=int, default=365, help="the device's validity")
    p.add_argument("--member-id", help="another device for this existing member")
    p.add_argument("--language", choices=sorted(LANGUAGES), default="en", help="of the words")
    p.add_argument("--qr", type=Path, help="also write the code as a QR code to this new PNG")
    p.set_defaults(handler=run_async(_invite))

    p = command("invites", "the invite book: open, used and expired invites")
    p.set_defaults(handler=run_async(_invites))

    p = command("pending", "enrolment requests waiting at the relay (changes nothing)")
    p.set_defaults(handler=run_async(_pending))

    p = command("approve", "check each waiting request with its invite secret; certify or reject")
    p.add_argument(
        "--invite", action="append", metavar="ID", help="only requests under this invite"
    )
    p.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS", help="wait for a request to arrive"
    )
    p.set_defaults(handler=run_async(_approve))

    p = command("members", "every member in the transparency log")
    p.set_defaults(handler=run_async(_members))

    p = command("devices", "every device the root ever issued, revoked ones included")
    p.add_argument("--member", metavar="ID", help="only this member's devices")
    p.set_defaults(handler=run_async(_devices))

    p = command("cases", "which devices are in which case (the relay's delivery view)")
    p.set_defaults(handler=run_async(_cases))

    p = command("revoke-device", "revoke a device and propose its removal from its cases")
    p.add_argument("device", metavar="DEVICE_ID")
    p.add_argument("--reason", choices=sorted(REASONS), default="unspecified")
    p.set_defaults(handler=run_async(_revoke_device))

    p = command("revoke-member", "revoke every device of a member")
    p.add_argument("member", metavar="MEMBER_ID")
    p.set_defaults(handler=run_async(_revoke_member))

    p = command("propose-removals", "propose again the removal of revoked devices from cases")
    p.set_defaults(handler=run_async(_propose_removals))
