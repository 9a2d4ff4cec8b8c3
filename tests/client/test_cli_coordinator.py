"""``casecircle coordinator …`` run as typed, against a real relay on 127.0.0.1 (tiny
Argon2id costs): a platform made, members invited with words and a QR image, enrolments
approved after the MAC check (and a forged one rejected), the log listed, a device revoked
and removed from its case — and every bad input ending in a clean error and exit status.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from client.invite_codes import qr_png, read_invite
from client.random import SystemRandom
from client.relay_api import RelayApi
from crypto.suites import cipher_suite
from protocol.invites import InviteCode, make_enrolment_request
from tests.client.cli_harness import Cli, CliPlatform

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliPlatform]:
    made = CliPlatform(tmp_path_factory.mktemp("cli-coordinator"))
    try:
        yield made
    finally:
        made.close()


def _device_of(platform: CliPlatform, name: str) -> str:
    listed = platform.coordinate("devices").ok()
    return next(line.split()[0] for line in listed.out.splitlines() if f" {name} (" in line)


def test_the_whole_coordinator_journey(platform: CliPlatform, tmp_path: Path) -> None:
    # Invite: words on screen, and the same code as a QR image readable by its owner only.
    qr = tmp_path / "jana.png"
    invite = platform.invite("Jana Dvořáková", "--qr", str(qr), "--valid-days", "3")
    assert len(invite.words.split()) == 24
    assert f"casecircle accept --profile DIR --relay {platform.relay.url}" in invite.result.out
    assert qr.read_bytes().startswith(PNG_MAGIC)
    assert qr.stat().st_mode & 0o777 == 0o600
    assert qr_png(read_invite(invite.words)) == qr.read_bytes()  # exactly these words
    assert platform.coordinate("pending").ok().out.strip() == "no enrolment requests are waiting"

    # The member accepts by words; the coordinator approves after checking the MAC.
    jana = tmp_path / "jana"
    accepted, approved = platform.accept_with_approval(jana, invite.words)
    assert "approved  Jana Dvořáková (Agency)" in approved.ok().out
    assert "enrolled: Jana Dvořáková (Agency), tester" in accepted.ok().out
    assert invite.invite_id in platform.coordinate("invites").ok().out

    # A second member, invited with Czech words.
    czech = platform.invite("Petr Novák", "--language", "cs")
    assert "(24 words, Czech)" in czech.result.out
    petr = tmp_path / "petr"
    platform.accept_with_approval(petr, czech.words)[0].ok()

    # Jana opens a case, writes, adds Petr; Petr reads it.
    cli = platform.cli
    created = cli.run("case", "create", "--title", "Rodina N.", "--pseudonym", "P17", profile=jana)
    case_id = created.ok().out.split()[1]
    cli.run("note", "post", case_id, profile=jana, stdin="Oznámení přijato.\n").ok()
    cli.run("case", "add", case_id, "--member", czech.member_id, profile=jana).ok()
    assert "Oznámení přijato." in cli.run("note", "list", case_id, profile=petr).ok().out

    # The coordinator sees members, devices and rosters, never content.
    members = platform.coordinate("members").ok().out
    assert "Jana Dvořáková (Agency), tester: 1 device(s), 1 active" in members
    assert "Koordinátorka (Město Jirkov), coordinator" in members
    petr_device = _device_of(platform, "Petr Novák")
    rosters = platform.coordinate("cases").ok().out
    assert f"case {case_id}" in rosters
    assert petr_device in rosters
    assert "Rodina" not in rosters and "Oznámení" not in rosters

    # Revoking Petr's device: logged, and removed from the case by the next member online.
    revoked = platform.coordinate("revoke-device", petr_device[:10], "--reason", "device-lost")
    assert f"device {petr_device} revoked" in revoked.ok().out
    assert "REVOKED: removal pending" in platform.coordinate("cases").ok().out
    listed = platform.coordinate("devices", "--member", czech.member_id).ok().out
    assert "(device-lost)" in listed
    committed = cli.run("case", "commit", case_id, profile=jana).ok()
    assert "1 device(s)" in committed.out
    assert petr_device not in platform.coordinate("cases").ok().out
    assert "0 removal proposal(s) sent" in platform.coordinate("propose-removals").ok().out


async def _forge(relay_url: str, invite_id: bytes) -> None:
    """A request under a real invite id, made without its code (what a relay could try)."""
    rng = SystemRandom()
    guess = InviteCode(secret=rng.random_bytes(16), platform_prefix=bytes(16))
    key = cipher_suite(1).signature.generate(rng)
    request = make_enrolment_request(guess, rng.random_bytes(16), key, 1, int(time.time()))
    request = replace(request, invite_id=invite_id)
    async with aiohttp.ClientSession() as http:
        await RelayApi(relay_url, http).request_enrolment(
            invite_id, request.device_id, request.to_bytes()
        )


def test_a_forged_enrolment_is_rejected(platform: CliPlatform) -> None:
    invite = platform.invite("Testovací zařízení")
    asyncio.run(_forge(platform.relay.url, bytes.fromhex(invite.invite_id)))
    pending = platform.coordinate("pending").ok().out
    assert f"{invite.invite_id}  device" in pending and "Testovací zařízení" in pending
    verdict = platform.coordinate("approve", "--invite", invite.invite_id[:8])
    assert verdict.code == 1
    assert "REJECTED  Testovací zařízení (Agency)" in verdict.out
    assert verdict.out.rstrip().endswith("invite_mac")


def test_wrong_passphrase_is_a_clean_error(platform: CliPlatform, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase\n", encoding="utf-8")
    result = platform.cli.run("coordinator", "devices", profile=platform.coordinator,
                              passphrase_file=wrong)  # fmt: skip
    assert result.code == 1
    assert result.err.startswith("casecircle: keystore_passphrase: ")
    assert "Traceback" not in result.err and result.out == ""


def test_unsafe_names_are_refused_before_an_invite_exists(platform: CliPlatform) -> None:
    before = platform.coordinate("invites").ok().out
    result = platform.coordinate(
        "invite", "--name", "Eve\u202eliA", "--organisation", "Agency", "--role", "tester"
    )
    assert result.code == 1
    assert result.err.startswith("casecircle: unsafe_text: ")
    assert platform.coordinate("invites").ok().out == before


def test_an_existing_qr_file_is_never_overwritten(platform: CliPlatform, tmp_path: Path) -> None:
    taken = tmp_path / "taken.png"
    taken.write_bytes(b"keep me")
    before = platform.coordinate("invites").ok().out
    result = platform.coordinate(
        "invite", "--name", "Ann", "--organisation", "A", "--role", "r", "--qr", str(taken)
    )
    assert (result.code, taken.read_bytes()) == (1, b"keep me")
    assert result.err.startswith("casecircle: invite_file: ")
    assert platform.coordinate("invites").ok().out == before


def test_approve_waits_then_says_nothing_came(platform: CliPlatform) -> None:
    result = platform.coordinate("approve", "--wait", "0.2")
    assert result.code == 1
    assert result.err.startswith("casecircle: enrolment_timeout: ")
    assert platform.coordinate("approve").ok().out.strip() == (
        "no enrolment requests under your invites"
    )


def test_register_needs_a_root_and_create_refuses_a_second(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    empty = cli.run("coordinator", "register", "--relay", "http://127.0.0.1:9", "--name", "K",
                    "--organisation", "O", profile=tmp_path / "none")  # fmt: skip
    assert empty.code == 1 and empty.err.startswith("casecircle: command: ")
    cli.run("coordinator", "create-platform", profile=tmp_path / "c").ok()
    second = cli.run("coordinator", "create-platform", profile=tmp_path / "c")
    assert second.code == 1 and second.err.startswith("casecircle: coordinator: ")


def test_an_unreachable_relay_exits_75(tmp_path: Path) -> None:
    platform = CliPlatform(tmp_path)
    platform.close()
    result = platform.coordinate("devices")
    assert result.code == 75
    assert result.err.startswith("casecircle: relay_unavailable: ")
