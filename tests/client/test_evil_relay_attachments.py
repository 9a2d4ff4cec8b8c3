"""ATTACKS.md E9–E11 at the client: a relay that serves another note's blob, or a cut or
padded one, and a member whose file names aim at paths, devices or hidden files. The
cryptographic halves (one blob, one key; every chunk authenticated) are shown in
tests/crypto/test_attachments.py; here the member's API refuses what they refuse, records
it, and writes received files only where the user said, under a harmless name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from client.member import DEFAULT_FILE_NAME, Member, safe_file_name
from crypto.attachments import AttachmentFormatError, AttachmentHashError
from protocol.case_items import Attachment, Note
from tests.client.evil_relay import World, codes

PDF = b"%PDF-1.7\n" + b"report " * 3000


async def attachments(member: Member, case_id: bytes) -> list[Attachment]:
    await member.sync()
    return [
        a
        for s in await member.notes(case_id)
        if isinstance(s.stored.item, Note)
        for a in s.stored.item.attachments
    ]


@pytest.mark.asyncio
async def test_e10_a_blob_swapped_from_another_note_is_refused(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    await alice.post_note(case_id, "report", [("report.pdf", "application/pdf", PDF)])
    await alice.post_note(case_id, "other", [("other.pdf", "application/pdf", PDF[::-1])])
    report, other = await attachments(bob, case_id)
    assert await bob.download(report) == PDF

    world.evil.blob_swaps[report.blob_id] = other.blob_id
    with pytest.raises(AttachmentHashError):
        await bob.download(report)
    assert AttachmentHashError.code in await codes(bob)


@pytest.mark.asyncio
async def test_e9_e10_a_cut_or_padded_blob_is_refused(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    await alice.post_note(case_id, "report", [("report.pdf", "application/pdf", PDF)])
    (report,) = await attachments(bob, case_id)
    genuine = await bob.api.download_blob(report.blob_id)
    for served in (genuine[:-1], genuine + b"\x00", genuine[: len(genuine) // 2]):

        async def serve(_: bytes, progress: object = None, *, blob: bytes = served) -> bytes:
            return blob

        bob.api.download_blob = serve  # type: ignore[method-assign, assignment]
        with pytest.raises((AttachmentFormatError, AttachmentHashError)):
            await bob.download(report)
    assert len(await codes(bob)) == 3


@pytest.mark.asyncio
async def test_e11_received_files_land_in_the_chosen_directory_under_harmless_names(
    world: World, tmp_path: Path
) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    names = ["../../.bashrc", "CON.txt", "a/b\\c:d.pdf", "-rf", "report.pdf"]
    await alice.post_note(case_id, "files", [(n, "application/octet-stream", PDF) for n in names])
    inbox = tmp_path / "downloads"
    inbox.mkdir()
    (inbox / "report.pdf").write_bytes(b"the user's own file")

    written = [await bob.save_attachment(a, inbox) for a in await attachments(bob, case_id)]
    assert [p.name for p in written] == [
        "_.._.bashrc",
        "_CON.txt",
        "a_b_c_d.pdf",
        "_rf",
        "report (1).pdf",
    ]
    assert all(p.parent == inbox and p.read_bytes() == PDF for p in written)
    assert (inbox / "report.pdf").read_bytes() == b"the user's own file"
    assert set(inbox.iterdir()) == {*written, inbox / "report.pdf"}
    assert not (tmp_path / ".bashrc").exists() and not (tmp_path.parent / ".bashrc").exists()
    if os.name == "posix":
        assert all(p.stat().st_mode & 0o077 == 0 for p in written)


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("..", DEFAULT_FILE_NAME),
        ("...", DEFAULT_FILE_NAME),
        ("", DEFAULT_FILE_NAME),
        ("/etc/passwd", "_etc_passwd"),
        ("..\\..\\Windows\\win.ini", "_.._Windows_win.ini"),
        ("nul", "_nul"),
        ("Com1.log", "_Com1.log"),
        ("LPT9 .txt", "_LPT9.txt"),
        ("invoice\u202egpj.exe", "invoice_gpj.exe"),  # a right-to-left override
        ("zero\u200bwidth.txt", "zero_width.txt"),
        ("tab\there.txt", "tab_here.txt"),
        ("full\uff0fwidth.txt", "full_width.txt"),  # maps to '/' under Windows best fit
        ("trailing. . ", "trailing"),
        ("stream.txt:hidden", "stream.txt_hidden"),
        ("e\u0301.txt", "\u00e9.txt"),
    ],
)
def test_e11_safe_file_names(name: str, safe: str) -> None:
    assert safe_file_name(name) == safe


def test_e11_long_names_keep_their_extension_within_255_bytes() -> None:
    result = safe_file_name("ř" * 300 + ".pdf")
    assert result.endswith(".pdf") and len(result.encode()) <= 255
    assert len(safe_file_name("x" * 300).encode()) <= 255
