"""A member's ``casecircle`` commands run as typed, against a real relay on 127.0.0.1 (tiny
Argon2id costs): enrolment by words and by QR text, cases, notes and attachments, the full
history read by a colleague added later, the coordinator's removal committed, the member's
own devices from the log — and every bad input ending in a clean error: a mistyped word
caught before anything is sent, a wrong passphrase, a note kept in the outbox while the
relay is down and sent once it is back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from client.cli_session import PASSPHRASE_ENV
from client.invite_codes import qr_text, read_invite
from tests.client.cli_harness import PASSPHRASE, CliPlatform


@dataclass
class Team:
    platform: CliPlatform
    alice: Path
    bob: Path


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    platform = CliPlatform(tmp_path_factory.mktemp("cli-member"))
    try:
        yield Team(platform, platform.enrol("Alice"), platform.enrol("Bob"))
    finally:
        platform.close()


def _member_id(team: Team, profile: Path) -> str:
    own = team.platform.cli.run("devices", profile=profile).ok()
    return own.out.split()[2]


def _number_of(listing: str, text: str) -> str:
    """The #number of the note whose text is ``text`` in a ``note list`` output."""
    number = ""
    for line in listing.splitlines():
        if line.startswith("#"):
            number = line.split()[0].removeprefix("#")
        elif line.strip() == text:
            return number
    raise AssertionError(f"no note {text!r} in:\n{listing}")


def _new_case(team: Team, title: str = "Rodina N.", history: str = "full") -> str:
    created = team.platform.cli.run(
        "case", "create", "--title", title, "--pseudonym", "P17", "--history", history,
        profile=team.alice,
    )  # fmt: skip
    return created.ok().out.split()[1]


def test_notes_attachments_and_the_full_history(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = team.platform.cli
    case_id = _new_case(team)
    cli.run("note", "post", case_id[:8], profile=team.alice, stdin="Před Bobem.\n").ok()
    report = tmp_path / "zpráva.pdf"
    report.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 400)
    posted = cli.run(
        "note", "post", case_id, "--attach", str(report), profile=team.alice, stdin="V příloze."
    ).ok()
    assert "[1/1] zpráva.pdf: encrypting 102.4 kB" in posted.err
    assert "[1/1] zpráva.pdf: uploading" in posted.err and "uploaded in" in posted.err
    assert f"note sent to case {case_id} as #" in posted.out

    added = cli.run(
        "case", "add", case_id, "--member", _member_id(team, team.bob), profile=team.alice
    )
    assert "added " in added.ok().out and "Bob (Agency)" in added.out

    # Bob was added after both notes: under `full` he reads the whole history.
    listed = cli.run("note", "list", case_id, profile=team.bob).ok().out
    assert f'case {case_id}: P17 "Rodina N."' in listed
    assert listed.index("Před Bobem.") < listed.index("V příloze.")
    assert "Alice (Agency), tester" in listed and "[1] zpráva.pdf (application/pdf)" in listed
    number = _number_of(listed, "V příloze.")
    saved = tmp_path / "saved.pdf"
    cli.run("note", "download", case_id, number, "--output", str(saved), profile=team.bob).ok()
    assert saved.read_bytes() == report.read_bytes()
    again = cli.run("note", "download", case_id, number, "--output", str(saved), profile=team.bob)
    assert again.code == 1 and again.err.startswith("casecircle: input_file: ")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    monkeypatch.chdir(downloads)  # without --output: the sender's name, never over a file
    for _ in range(2):
        cli.run("note", "download", case_id, number, profile=team.bob).ok()
    assert sorted(p.name for p in downloads.iterdir()) == ["zpráva (1).pdf", "zpráva.pdf"]
    assert (downloads / "zpráva (1).pdf").read_bytes() == report.read_bytes()

    assert (
        f'{case_id}  P17  "Rodina N."  history full' in cli.run("cases", profile=team.bob).ok().out
    )
    shown = cli.run("case", "show", case_id, profile=team.bob).ok().out
    assert "Alice (Agency), tester" in shown and "Bob (Agency), tester" in shown


def test_from_join_cases_hide_earlier_notes(team: Team) -> None:
    cli = team.platform.cli
    case_id = _new_case(team, "Later", history="from-join")
    cli.run("note", "post", case_id, profile=team.alice, stdin="before\n").ok()
    cli.run("case", "add", case_id, "--member", _member_id(team, team.bob), profile=team.alice).ok()
    cli.run("note", "post", case_id, profile=team.alice, stdin="after\n").ok()
    listed = cli.run("note", "list", case_id, profile=team.bob).ok().out
    assert "after" in listed and "before" not in listed
    assert "earlier item(s) held but not readable on this device" in listed


def test_a_note_is_queued_while_the_relay_is_down(team: Team, tmp_path: Path) -> None:
    cli, relay = team.platform.cli, team.platform.relay
    case_id = _new_case(team, "Offline")
    cli.run("case", "add", case_id, "--member", _member_id(team, team.bob), profile=team.alice).ok()
    relay.stop()
    try:
        queued = cli.run("note", "post", case_id, profile=team.alice, stdin="Napsáno offline.")
        assert queued.code == 75
        assert "note saved in this device's outbox" in queued.err
        assert "casecircle: note_queued: " in queued.err and "Traceback" not in queued.err
        offline = cli.run("note", "list", case_id, profile=team.alice).ok()
        assert "relay unreachable: showing what this device holds" in offline.err
        assert "1 item(s) of yours wait in the outbox" in offline.out
        attachment = tmp_path / "a.txt"
        attachment.write_text("x", encoding="utf-8")
        refused = cli.run("note", "post", case_id, "--attach", str(attachment),
                          profile=team.alice, stdin="with a file")  # fmt: skip
        assert refused.code == 75 and "nothing was saved" in refused.err
    finally:
        relay.start()
    assert "0 item(s) still in the outbox" in cli.run("sync", profile=team.alice).ok().out
    assert "Napsáno offline." in cli.run("note", "list", case_id, profile=team.bob).ok().out


def test_a_mistyped_word_is_caught_before_anything_is_sent(team: Team, tmp_path: Path) -> None:
    platform = team.platform
    invite = platform.invite("Carol")
    words = invite.words.split()
    words[3] = "zebra" if words[3] != "zebra" else "zoo"
    profile = tmp_path / "carol"
    for typed, code in (
        (" ".join(words), "invite_checksum"),
        (" ".join([*words[:3], "zebrra", *words[4:]]), "invite_word_unknown"),
        (" ".join(words[:12]), "invite_word_count"),
    ):
        result = platform.cli.run("accept", "--relay", platform.relay.url, "--code-file", "-",
                                  profile=profile, stdin=typed)  # fmt: skip
        assert result.code == 1
        assert result.err.startswith(f"casecircle: {code}: ")
        assert "zebr" not in result.err  # the words are the secret: never echoed
    assert not profile.exists()
    assert platform.coordinate("pending").ok().out.strip() == "no enrolment requests are waiting"


def test_accept_from_qr_text_and_see_own_devices(team: Team, tmp_path: Path) -> None:
    platform = team.platform
    invite = platform.invite("Dana")
    scanned = qr_text(read_invite(invite.words))  # what a scanner reads from the image
    dana = tmp_path / "dana"
    accepted, approved = platform.accept_with_approval(dana, scanned)
    approved.ok()
    assert "enrolled: Dana (Agency), tester" in accepted.ok().out

    second = platform.invite("Dana", "--member-id", invite.member_id[:10])
    assert second.member_id == invite.member_id
    laptop = tmp_path / "dana-laptop"
    platform.accept_with_approval(laptop, second.words)[0].ok()
    own = platform.cli.run("devices", profile=dana).ok().out
    assert "2 device(s) issued in your name" in own
    assert own.count(f"member {invite.member_id}") == 2
    assert own.count("<- this device") == 1


def test_the_coordinators_removal_is_committed(team: Team, tmp_path: Path) -> None:
    platform, cli = team.platform, team.platform.cli
    eve = tmp_path / "eve"
    invite = platform.invite("Eve")
    platform.accept_with_approval(eve, invite.words)[0].ok()
    case_id = _new_case(team, "Removal")
    cli.run("case", "add", case_id, "--member", invite.member_id, profile=team.alice).ok()
    assert "Eve (Agency)" in cli.run("case", "show", case_id, profile=eve).ok().out
    eve_device = cli.run("devices", profile=eve).ok().out.split()[0]
    platform.coordinate("revoke-device", eve_device).ok()
    committed = cli.run("case", "commit", case_id, profile=team.alice).ok()
    assert "1 device(s)" in committed.out
    shown = cli.run("case", "show", case_id, profile=team.alice).ok().out
    assert "Eve" not in shown
    refused = cli.run("cases", profile=eve)
    assert refused.code == 1 and refused.err.startswith("casecircle: relay: ")


def test_others_text_cannot_drive_the_terminal(team: Team) -> None:
    cli = team.platform.cli
    case_id = _new_case(team, "Escapes")
    cli.run("case", "add", case_id, "--member", _member_id(team, team.bob), profile=team.alice).ok()
    early = cli.run("note", "post", case_id, profile=team.bob, stdin="not yet joined")
    assert early.code == 1 and "'casecircle sync' joins cases you were added to" in early.err
    cli.run("sync", profile=team.bob).ok()
    cli.run("note", "post", case_id, profile=team.bob, stdin="\x1b[2Jhi\u202egnp.exe").ok()
    listed = cli.run("note", "list", case_id, profile=team.alice).ok().out
    assert "\x1b" not in listed and "\u202e" not in listed
    assert "\\u001b[2Jhi\\u202egnp.exe" in listed


def test_passphrase_errors_are_clean(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = team.platform.cli
    wrong = tmp_path / "wrong"
    wrong.write_text("wrong\n", encoding="utf-8")
    result = cli.run("cases", "--offline", profile=team.alice, passphrase_file=wrong)
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith("casecircle: keystore_passphrase: ")
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    result = cli.run("cases", "--offline", profile=team.alice, passphrase_file=False)
    assert result.code == 1 and result.err.startswith("casecircle: passphrase_required: ")
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    cli.run("cases", "--offline", profile=team.alice, passphrase_file=False).ok()


def test_accept_never_spends_an_invite_on_a_used_profile(team: Team) -> None:
    platform = team.platform
    invite = platform.invite("Frank")
    result = platform.cli.run("accept", "--relay", platform.relay.url, "--code-file", "-",
                              profile=team.alice, stdin=invite.words)  # fmt: skip
    assert result.code == 1 and result.err.startswith("casecircle: profile_exists: ")
    bad_url = platform.cli.run("accept", "--relay", "ftp://relay", "--code-file", "-",
                               profile=team.alice.parent / "frank", stdin=invite.words)  # fmt: skip
    assert bad_url.code == 1 and bad_url.err.startswith("casecircle: relay_url: ")
    assert platform.coordinate("pending").ok().out.strip() == "no enrolment requests are waiting"
