"""``casecircle accept | publish-key-packages | sync | cases | case … | devices | directory |
events``: a member's commands (DESIGN §1, §4, §5, §8), a thin shell over
:mod:`client.member`; the notes are in :mod:`client.cli_notes`.

Each command unlocks the profile, connects to the relay the profile pinned at enrolment,
does its work and locks the profile again. ``accept`` checks the invite's words locally
(checksum) and refuses a used profile directory, an empty passphrase or a bad relay URL
before anything is sent, so an invite is never spent on a device that could not be made.
The reading commands fall back to what the device holds when the relay is away.

Names and titles are shown through :func:`~client.cli_session.shown`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeAlias

from client.cli_session import (
    CommandError,
    Console,
    UnknownIdError,
    add_profile_arguments,
    checked_relay_url,
    connected,
    console_of,
    device_line,
    profile_of,
    read_passphrase,
    read_text_file,
    require_new_profile,
    resolve_id,
    run_async,
    settings_of,
    shown,
    unlocked,
    when,
)
from client.enrolment import accept_invite
from client.held_cases import case_state, stored_items
from client.invite_codes import read_invite
from client.member import KEY_PACKAGE_BATCH, Member
from client.relay_api import RelayUnavailableError
from client.store import LocalStore
from protocol.case_items import CaseInfo, HistoryPolicy
from protocol.invites import InviteCode

POLICIES = {"full": HistoryPolicy.FULL, "from-join": HistoryPolicy.FROM_JOIN}


@asynccontextmanager
async def member_session(args: argparse.Namespace) -> AsyncIterator[Member]:
    """The member's device, unlocked and connected for one command; locked after it."""
    async with unlocked(args) as opened, connected(opened, Member) as member:
        yield member


async def case_id_of(store: LocalStore, typed: str) -> bytes:
    """A case this device holds, by its id or a prefix of it."""
    try:
        return resolve_id(typed, (await store.group_cursors()).keys(), "case")
    except UnknownIdError as exc:
        raise UnknownIdError(f"{exc}; 'casecircle sync' joins cases you were added to") from None


async def joined_case_id(member: Member, typed: str) -> bytes:
    """A case by id, after joining any case this device was just added to."""
    try:
        return resolve_id(typed, await member.case_ids(), "case")
    except UnknownIdError:
        await member.process_inbox()
    return await case_id_of(member.store, typed)


def size_text(count: int) -> str:
    """A byte count as people read it."""
    if count < 1000:
        return f"{count} bytes"
    if count < 1_000_000:
        return f"{count / 1000:.1f} kB"
    return f"{count / 1_000_000:.1f} MB"


# --- enrolment ----------------------------------------------------------------------------


def _read_code(args: argparse.Namespace, console: Console) -> InviteCode:
    """The invite from ``--code-file`` (``-`` is standard input) or a prompt; its words'
    checksum is checked here, before anything is sent."""
    if args.code_file is None:
        text = console.ask("Invite code (the 24 words, or the QR code's text): ")
    elif str(args.code_file) == "-":
        text = console.input.read()
    else:
        text = read_text_file(args.code_file)
    return read_invite(text)


async def _accept(args: argparse.Namespace) -> int:
    console, settings = console_of(args), settings_of(args)
    profile = profile_of(args)
    require_new_profile(profile)
    relay_url = checked_relay_url(args.relay)
    code = _read_code(args, console)
    passphrase = read_passphrase(args, new=True)
    console.tell(
        f"invite {code.invite_id.hex()}: the code checks out. Sending the request, then"
        f" waiting up to {args.timeout:g} s for your coordinator's approval (Ctrl-C stops)"
    )
    opened = await accept_invite(
        profile,
        passphrase,
        relay_url,
        code,
        poll_interval=settings.poll_interval,
        timeout=args.timeout,
    )
    try:
        async with connected(opened, Member) as member:
            credential = member.credential
            console.say(
                f"enrolled: {shown(credential.display_name)} ({shown(credential.organisation)}),"
                f" {shown(credential.role)}"
            )
            console.say(f"device {member.device_id.hex()}, member {member.member_id.hex()}")
            if args.key_packages:
                try:
                    await member.publish_key_packages(args.key_packages)
                except RelayUnavailableError as exc:
                    raise RelayUnavailableError(
                        "enrolled, but the relay went away before KeyPackages were published:"
                        " run 'casecircle publish-key-packages'"
                    ) from exc
                console.say(f"{args.key_packages} KeyPackages published: colleagues can add you")
    finally:
        await opened.lock()
    return 0


async def _publish(args: argparse.Namespace) -> int:
    async with member_session(args) as member:
        await member.publish_key_packages(args.count)
    console_of(args).say(f"{args.count} one-time KeyPackages and a last-resort one published")
    return 0


# --- sync and cases -----------------------------------------------------------------------


async def _sync(args: argparse.Namespace) -> int:
    console = console_of(args)
    async with member_session(args) as member:
        joined = await member.process_inbox()
        await member.sync()
        waiting = len(await member.store.pending_outbox())
    for case_id in joined:
        console.say(f"joined case {case_id.hex()}")
    console.say(f"in sync; {waiting} item(s) still in the outbox")
    return 0


async def _case_line(store: LocalStore, case_id: bytes) -> str:
    state = await case_state(store, case_id)
    info = next(
        (
            s.stored.item
            for s in await stored_items(store, case_id)
            if isinstance(s.stored.item, CaseInfo)
        ),
        None,
    )
    label = (
        f'{shown(info.pseudonym)}  "{shown(info.title)}"'
        if info is not None
        else "(no description yet)"
    )
    policy = state.history_policy.name.lower().replace("_", "-") if state.history_policy else "?"
    removed = "  REMOVED from this case" if state.removed else ""
    return f"{case_id.hex()}  {label}  history {policy}{removed}"


async def _cases(args: argparse.Namespace) -> int:
    console = console_of(args)
    async with unlocked(args) as opened:
        store = await opened.store()
        if not args.offline:
            try:
                async with connected(opened, Member) as member:
                    await member.sync()
                    lines = [await _case_line(member.store, c) for c in await member.case_ids()]
            except RelayUnavailableError:
                if opened.locked:  # the relay went away mid-way, after connecting
                    raise
                console.tell("relay unreachable: showing what this device holds")
            else:
                print_lines(console, lines, "no cases on this device")
                return 0
        lines = [await _case_line(store, c) for c in sorted(await store.group_cursors())]
    print_lines(console, lines, "no cases on this device")
    return 0


def print_lines(console: Console, lines: list[str], empty: str) -> None:
    """Each line, or ``empty`` when there are none (so silence never means nothing ran)."""
    for line in lines:
        console.say(line)
    if not lines:
        console.say(empty)


async def _case_create(args: argparse.Namespace) -> int:
    async with member_session(args) as member:
        case_id = await member.create_case(args.title, args.pseudonym, POLICIES[args.history])
        await member.flush_outbox()
    console_of(args).say(f"case {case_id.hex()} created (history {args.history})")
    return 0


async def _case_show(args: argparse.Namespace) -> int:
    console = console_of(args)
    async with member_session(args) as member:
        case_id = await joined_case_id(member, args.case)
        await member.sync()
        summary = await member.summary(case_id)
        waiting = await member.waiting_history(case_id)
    policy = summary.history.name.lower().replace("_", "-") if summary.history else "?"
    console.say(f"case       {case_id.hex()}")
    console.say(f"title      {shown(summary.title or '')}")
    console.say(f"pseudonym  {shown(summary.pseudonym or '')}")
    console.say(f"history    {policy}")
    if summary.removed:
        console.say("this device was REMOVED from the case: it keeps what it read, nothing new")
    else:
        console.say(f"epoch      {summary.epoch}")
    for credential in summary.members:
        console.say(
            f"  {credential.device_id.hex()}  {shown(credential.display_name)}"
            f" ({shown(credential.organisation)}), {shown(credential.role)}"
        )
    if waiting:
        console.say(f"{waiting} earlier item(s) held but not readable on this device")
    return 0


async def _case_add(args: argparse.Namespace) -> int:
    console = console_of(args)
    if not args.member and not args.device:
        raise CommandError("name at least one --member or --device")
    async with member_session(args) as member:
        case_id = await joined_case_id(member, args.case)
        await member.refresh_directory()
        issued = member.directory.devices()
        added: list[bytes] = []
        for typed in args.member or []:
            member_id = resolve_id(typed, [d.credential.member_id for d in issued], "member")
            added += await member.add_member(case_id, member_id)
        if args.device:
            devices = [
                resolve_id(t, [d.credential.device_id for d in issued], "device")
                for t in args.device
            ]
            await member.add_devices(case_id, devices)
            added += devices
        names = {d.credential.device_id: d.credential for d in issued}
    for device_id in added:
        c = names[device_id]
        console.say(f"added {device_id.hex()}  {shown(c.display_name)} ({shown(c.organisation)})")
    return 0


async def _case_remove(args: argparse.Namespace) -> int:
    console = console_of(args)
    if not args.member and not args.device:
        raise CommandError("name at least one --member or --device")
    async with member_session(args) as member:
        case_id = await joined_case_id(member, args.case)
        await member.sync_case(case_id)
        in_case = (await member.summary(case_id)).members
        removing = [
            resolve_id(t, [c.device_id for c in in_case], "device") for t in args.device or []
        ]
        for typed in args.member or []:
            member_id = resolve_id(typed, [c.member_id for c in in_case], "member")
            removing += [c.device_id for c in in_case if c.member_id == member_id]
        await member.remove_devices(case_id, removing)
    for device_id in removing:
        console.say(f"removed {device_id.hex()}")
    return 0


async def _case_commit(args: argparse.Namespace) -> int:
    """Commit what is pending in each case: the coordinator's Remove proposals above all."""
    console = console_of(args)
    async with member_session(args) as member:
        await member.refresh_directory()
        cases = [await joined_case_id(member, args.case)] if args.case else await member.case_ids()
        for case_id in cases:
            before = await member.summary(case_id)
            if before.removed:
                console.say(f"{case_id.hex()}  removed from this case: nothing to commit")
                continue
            await member.sync_case(case_id)
            await member.enforce_trust(case_id)
            after = await member.summary(case_id)
            console.say(
                f"{case_id.hex()}  epoch {before.epoch} -> {after.epoch},"
                f" {len(after.members)} device(s)"
            )
    return 0


# --- the log ------------------------------------------------------------------------------


async def _devices(args: argparse.Namespace) -> int:
    """Every device ever issued in this member's name, from the replayed log."""
    console = console_of(args)
    now = int(time.time())
    async with member_session(args) as member:
        own = member.directory.member_devices(member.member_id)
        this_device = member.device_id
    for issued in own:
        mark = "  <- this device" if issued.credential.device_id == this_device else ""
        console.say(device_line(issued, now) + mark)
    console.say(
        f"{len(own)} device(s) issued in your name. One you do not know: report it to your"
        " coordinator and the auditor."
    )
    return 0


async def _directory(args: argparse.Namespace) -> int:
    """Certified devices, to find a colleague's member or device id."""
    console = console_of(args)
    now = int(time.time())
    async with member_session(args) as member:
        devices = member.directory.devices()
    if args.member is not None:
        member_id = resolve_id(args.member, [d.credential.member_id for d in devices], "member")
        devices = [d for d in devices if d.credential.member_id == member_id]
    if args.search:
        wanted = args.search.casefold()
        devices = [
            d
            for d in devices
            if wanted
            in f"{d.credential.display_name} {d.credential.organisation}"
            f" {d.credential.role}".casefold()
        ]
    print_lines(console, [device_line(d, now) for d in devices], "no such device in the log")
    return 0


async def _events(args: argparse.Namespace) -> int:
    """What this device refused: error codes and ids, never content. Works offline."""
    console = console_of(args)
    async with unlocked(args) as opened:
        events = await (await opened.store()).security_events()
    lines = []
    for event in events:
        where = f"  case {event.group_id.hex()}" if event.group_id else ""
        device = f"  device {event.device_id.hex()}" if event.device_id else ""
        seq = f"  #{event.seq}" if event.seq is not None else ""
        lines.append(f"{when(event.at)}  {event.code}{where}{device}{seq}")
    print_lines(console, lines, "no security events")
    return 0


# --- the parser ---------------------------------------------------------------------------


Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def subcommand(group: Subcommands, name: str, help_text: str) -> argparse.ArgumentParser:
    parser = group.add_parser(name, help=help_text, description=help_text)
    add_profile_arguments(parser)
    return parser


def add_parsers(commands: Subcommands) -> None:
    p = subcommand(commands, "accept", "enrol this device with an invite code (waits for approval)")
    p.add_argument("--relay", required=True, help="the relay's URL, from your coordinator")
    p.add_argument(
        "--code-file",
        type=Path,
        help="the invite's words or QR text ('-' for standard input; default: a prompt)",
    )
    p.add_argument(
        "--timeout", type=float, default=24 * 3600.0, metavar="SECONDS", help="wait this long"
    )
    p.add_argument(
        "--key-packages",
        type=int,
        default=KEY_PACKAGE_BATCH,
        metavar="N",
        help="KeyPackages to publish once enrolled (0: none)",
    )
    p.set_defaults(handler=run_async(_accept))

    p = subcommand(commands, "publish-key-packages", "let colleagues add this device to cases")
    p.add_argument("--count", type=int, default=KEY_PACKAGE_BATCH)
    p.set_defaults(handler=run_async(_publish))

    p = subcommand(
        commands, "sync", "join new cases, catch up, commit pending removals, send the outbox"
    )
    p.set_defaults(handler=run_async(_sync))

    p = subcommand(commands, "cases", "the cases on this device")
    p.add_argument("--offline", action="store_true", help="do not contact the relay")
    p.set_defaults(handler=run_async(_cases))

    case = commands.add_parser("case", help="create a case, see it, add or remove devices")
    _add_case_parsers(case.add_subparsers(dest="case_command", required=True))

    p = subcommand(commands, "devices", "every device ever issued in your name (from the log)")
    p.set_defaults(handler=run_async(_devices))

    p = subcommand(commands, "directory", "certified devices: find a colleague's ids")
    p.add_argument("--search", help="a part of a name, organisation or role")
    p.add_argument("--member", metavar="ID")
    p.set_defaults(handler=run_async(_directory))

    p = subcommand(commands, "events", "this device's security event log (codes and ids only)")
    p.set_defaults(handler=run_async(_events))


def _add_case_parsers(case_commands: Subcommands) -> None:
    p = subcommand(case_commands, "create", "open a case (its title and pseudonym are encrypted)")
    p.add_argument("--title", required=True)
    p.add_argument("--pseudonym", required=True)
    p.add_argument(
        "--history",
        choices=sorted(POLICIES),
        default="full",
        help="what colleagues added later can read (default: full)",
    )
    p.set_defaults(handler=run_async(_case_create))
    p = subcommand(case_commands, "show", "a case's description and its members")
    p.add_argument("case", metavar="CASE_ID")
    p.set_defaults(handler=run_async(_case_show))
    p = subcommand(case_commands, "add", "add colleagues' devices (all of a member's, or chosen)")
    p.add_argument("case", metavar="CASE_ID")
    p.add_argument("--member", action="append", metavar="ID", help="every usable device")
    p.add_argument("--device", action="append", metavar="ID")
    p.set_defaults(handler=run_async(_case_add))
    p = subcommand(case_commands, "remove", "remove devices from a case")
    p.add_argument("case", metavar="CASE_ID")
    p.add_argument("--member", action="append", metavar="ID", help="all their devices")
    p.add_argument("--device", action="append", metavar="ID")
    p.set_defaults(handler=run_async(_case_remove))
    p = subcommand(case_commands, "commit", "commit pending proposals (the coordinator's removals)")
    p.add_argument("case", metavar="CASE_ID", nargs="?", help="default: every case")
    p.set_defaults(handler=run_async(_case_commit))
