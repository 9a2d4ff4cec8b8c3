"""``casecircle note post | list | download``: a member's notes and attachments (DESIGN
§4, §8), a thin shell over :mod:`client.member`.

What a member typed is never lost. A text note is written to the profile's outbox *before*
the relay is contacted; when the relay is unreachable the command says so (``note_queued``,
exit status 75) and the next ``casecircle sync`` sends it. A note with attachments needs the
relay first, to take the encrypted files, so the relay is reached before the note is typed;
each file's encryption and upload is reported as it happens.

Text written by others (notes, file names) is shown through :func:`~client.cli_session.shown`,
so a note cannot drive the terminal with escape sequences; attachments are saved to new
files only, under cleaned names.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from client.attachment_files import media_type
from client.cli_member import (
    Subcommands,
    case_id_of,
    joined_case_id,
    member_session,
    size_text,
    subcommand,
)
from client.cli_session import (
    CommandError,
    Console,
    InputFileError,
    connected,
    console_of,
    create_new_file,
    read_text_file,
    run_async,
    shown,
    unlocked,
    when,
)
from client.held_cases import case_state, stored_items
from client.member import Member, RemovedFromCaseError
from client.profile import UnlockedProfile
from client.random import SystemRandom
from client.relay_api import RelayUnavailableError
from client.store import LocalStore, new_client_message_id
from crypto.attachments import seal_attachment
from crypto.errors import CasecircleError
from protocol.case_items import (
    MAX_ATTACHMENTS,
    MAX_FILE_NAME_BYTES,
    Attachment,
    CaseInfo,
    Note,
    encode_item,
)
from protocol.directory import check_display_text


class NoteQueuedError(RelayUnavailableError):
    """The note is safe in the outbox, but the relay could not be reached to send it."""

    code = "note_queued"


# --- notes --------------------------------------------------------------------------------


def _read_note_text(
    args: argparse.Namespace, console: Console, *, allow_empty: bool = False
) -> str:
    """The note from ``--text-file`` or standard input (typed, ended with Ctrl-D)."""
    if args.text_file is not None and str(args.text_file) != "-":
        text = read_text_file(args.text_file)
    else:
        if console.interactive():
            console.tell("Type the note; end it with Ctrl-D on a line of its own.")
        text = console.input.read()
    text = text.strip()
    if not text and not allow_empty:
        raise CommandError("the note is empty")
    return text


def _read_files(paths: list[Path]) -> list[tuple[str, str, bytes]]:
    """(name, media type, content) of each file; names are checked before any upload."""
    if len(paths) > MAX_ATTACHMENTS:
        raise CommandError(f"a note has at most {MAX_ATTACHMENTS} attachments")
    files = []
    for path in paths:
        name = path.name
        check_display_text(name, "file name", MAX_FILE_NAME_BYTES)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise InputFileError(f"{path} could not be read") from exc
        files.append((name, media_type(name), content))
    return files


QUEUED = "the relay is unreachable; the note waits in the outbox and 'casecircle sync' sends it"


async def _note_post(args: argparse.Namespace) -> int:
    """A text note goes to the outbox before the relay is contacted at all; a note with
    files is :func:`_post_with_files`."""
    console = console_of(args)
    files = _read_files(args.attach or [])
    async with unlocked(args) as opened:
        store = await opened.store()
        case_id = await case_id_of(store, args.case)
        if (await case_state(store, case_id)).removed:
            raise RemovedFromCaseError("this device was removed from the case")
        if files:
            return await _post_with_files(args, console, opened, case_id, files)
        note = Note(text=_read_note_text(args, console), written_at=int(time.time()))
        client_message_id = new_client_message_id(SystemRandom())
        await store.enqueue(client_message_id, case_id, encode_item(note))
        console.tell("note saved in this device's outbox")
        try:
            member = await Member.connect(opened)
        except RelayUnavailableError as exc:
            raise NoteQueuedError(QUEUED) from exc
        assert isinstance(member, Member)
        try:
            return await _send_queued(console, member, case_id, client_message_id)
        finally:
            await member.close()


async def _post_with_files(
    args: argparse.Namespace,
    console: Console,
    opened: UnlockedProfile,
    case_id: bytes,
    files: list[tuple[str, str, bytes]],
) -> int:
    """With attachments the relay is needed first, to take the encrypted files; so it is
    reached before the note is typed, and the note then goes through the outbox."""
    try:
        member = await Member.connect(opened)
    except RelayUnavailableError as exc:
        raise RelayUnavailableError(
            "the relay is unreachable: attachments cannot be uploaded; nothing was saved"
        ) from exc
    assert isinstance(member, Member)
    try:
        text = _read_note_text(args, console, allow_empty=True)
        try:
            attachments = await _upload(console, member, case_id, files)
        except CasecircleError:
            if text and console.interactive():
                console.tell("The note was not saved. Its text, to keep:\n" + text)
            raise
        note = Note(text=text, attachments=tuple(attachments), written_at=member.clock())
        client_message_id = await member.queue_item(case_id, note)
        console.tell("note saved in this device's outbox")
        return await _send_queued(console, member, case_id, client_message_id)
    finally:
        await member.close()


async def _upload(
    console: Console, member: Member, case_id: bytes, files: list[tuple[str, str, bytes]]
) -> list[Attachment]:
    """Encrypt and upload each file, reporting each step on the error stream."""
    attachments = []
    for number, (name, media, content) in enumerate(files, 1):
        label = f"[{number}/{len(files)}] {shown(name)}"
        console.tell(f"{label}: encrypting {size_text(len(content))}")
        blob, ref = await asyncio.to_thread(seal_attachment, content, member.rng)
        console.tell(f"{label}: uploading {size_text(len(blob))}")
        started = time.monotonic()
        blob_id = await member.api.upload_blob(case_id, blob)
        console.tell(f"{label}: uploaded in {time.monotonic() - started:.1f} s")
        attachments.append(Attachment(name=name, media_type=media, blob_id=blob_id, ref=ref))
    return attachments


async def _send_queued(
    console: Console, member: Member, case_id: bytes, client_message_id: str
) -> int:
    try:
        await member.flush_outbox()
    except RelayUnavailableError as exc:
        raise NoteQueuedError(QUEUED) from exc
    except CasecircleError:
        console.tell("the note stays in the outbox; 'casecircle sync' tries again")
        raise
    entry = await member.store.outbox_entry(client_message_id)
    if entry is None or entry.seq is None:
        raise NoteQueuedError("the note is in the outbox; the relay has not accepted it yet")
    console.say(f"note sent to case {case_id.hex()} as #{entry.seq}")
    return 0


async def _note_download(args: argparse.Namespace) -> int:
    console = console_of(args)
    async with member_session(args) as member:
        case_id = await joined_case_id(member, args.case)
        notes = [s.stored.item for s in await member.notes(case_id) if s.seq == args.seq]
        note = notes[0] if notes else None
        if not isinstance(note, Note):
            raise CommandError(f"this device holds no note #{args.seq} in the case")
        if not 1 <= args.attachment <= len(note.attachments):
            raise CommandError(f"note #{args.seq} has {len(note.attachments)} attachment(s)")
        attachment = note.attachments[args.attachment - 1]
        if args.output is not None and args.output.exists():
            raise InputFileError(f"{args.output} exists already; choose another --output")
        console.tell(f"downloading {shown(attachment.name)}")
        if args.output is None:  # the sender's name, made harmless, as a new file here
            target = await member.save_attachment(attachment, Path.cwd())
            size = target.stat().st_size
        else:
            data = await member.download(attachment)
            create_new_file(args.output, data)
            target, size = args.output, len(data)
    console.say(f"saved {shown(attachment.name)} ({size_text(size)}) to {shown(str(target))}")
    return 0


async def _note_list(args: argparse.Namespace) -> int:
    console = console_of(args)
    async with unlocked(args) as opened:
        if not args.offline:
            try:
                async with connected(opened, Member) as member:
                    await member.sync()
                    case_id = await case_id_of(member.store, args.case)
                    await _print_case(console, member.store, case_id)
            except RelayUnavailableError:
                if opened.locked:  # the relay went away mid-way, after connecting
                    raise
                console.tell("relay unreachable: showing what this device holds")
            else:
                return 0
        store = await opened.store()
        await _print_case(console, store, await case_id_of(store, args.case))
    return 0


async def _print_case(console: Console, store: LocalStore, case_id: bytes) -> None:
    state = await case_state(store, case_id)
    items = await stored_items(store, case_id)
    for shown_item in items:
        item = shown_item.stored.item
        author = shown_item.author
        if isinstance(item, CaseInfo):
            console.say(f'case {case_id.hex()}: {shown(item.pseudonym)} "{shown(item.title)}"')
            continue
        if not isinstance(item, Note):
            continue
        seq = f"#{shown_item.seq}" if shown_item.seq is not None else "#(unsent)"
        console.say(
            f"{seq}  {when(item.written_at)}  {shown(author.display_name)}"
            f" ({shown(author.organisation)}), {shown(author.role)}"
        )
        for line in item.text.splitlines() or [""]:
            console.say(f"    {shown(line)}")
        for number, attachment in enumerate(item.attachments, 1):
            console.say(f"    [{number}] {shown(attachment.name)} ({shown(attachment.media_type)})")
    unsent = [e for e in await store.pending_outbox() if e.group_id == case_id]
    if unsent:
        console.say(f"{len(unsent)} item(s) of yours wait in the outbox")
    if state.waiting:
        console.say(
            f"{len(state.waiting)} earlier item(s) held but not readable on this device"
            " (history from-join, or keys not received yet)"
        )
    if state.removed:
        console.say("this device was removed from the case: nothing after that is readable")


# --- the parser ---------------------------------------------------------------------------


def add_parsers(commands: Subcommands) -> None:
    note = commands.add_parser("note", help="post and read notes, save attachments")
    note_commands = note.add_subparsers(dest="note_command", required=True)
    p = subcommand(note_commands, "post", "post a note (text from --text-file or standard input)")
    p.add_argument("case", metavar="CASE_ID")
    p.add_argument(
        "--text-file", type=Path, metavar="FILE", help="the note's text (default: standard input)"
    )
    p.add_argument("--attach", type=Path, action="append", metavar="FILE", help="attach a file")
    p.set_defaults(handler=run_async(_note_post))
    p = subcommand(note_commands, "list", "the case's whole history as this device can read it")
    p.add_argument("case", metavar="CASE_ID")
    p.add_argument("--offline", action="store_true", help="do not contact the relay")
    p.set_defaults(handler=run_async(_note_list))
    p = subcommand(note_commands, "download", "save a note's attachment to a new file")
    p.add_argument("case", metavar="CASE_ID")
    p.add_argument("seq", type=int, metavar="NUMBER", help="the note's #number")
    p.add_argument("--attachment", type=int, default=1, metavar="N", help="which one (from 1)")
    p.add_argument("--output", type=Path, help="default: the file's own (cleaned) name here")
    p.set_defaults(handler=run_async(_note_download))
