"""The end-to-end scenario of ``casecircle demo`` against a real relay on 127.0.0.1, with tiny
Argon2id costs: enrolment (and a forged request refused), a case across three
organisations with notes and an attachment, a later member reading the full history, a
revoked device cut off, and no plaintext in the relay's data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.demo import DemoSettings, run_demo, search_plaintext
from tests.client.conftest import TEST_FLOOR, TINY

SETTINGS = DemoSettings(params=TINY, insecure_floor_for_tests=TEST_FLOOR)


@pytest.mark.asyncio
async def test_the_demo_scenario_holds_end_to_end(tmp_path: Path) -> None:
    lines: list[str] = []
    code = await run_demo(tmp_path, lines.append, SETTINGS)
    transcript = "\n".join(lines)
    assert code == 0, transcript
    assert "FAILED" not in transcript
    assert "refuses it: invite_mac" in transcript
    assert "the relay refuses the revoked device: device_refused" in transcript
    assert "the revoked device fails: wrong_epoch" in transcript
    assert "the revoked device among them: False" in transcript
    assert "0 found" in transcript
    # Each note's text is narrated in double quotes as it is sent.
    assert transcript.count(' sends "') == 4


def test_the_plaintext_search_finds_utf8_and_utf16(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"xx" + "tajné".encode("utf-16-le") + b"yy")
    (tmp_path / "b").write_bytes("veřejné".encode())
    assert search_plaintext(tmp_path, ["tajné", "veřejné", "nic"]) == ["tajné", "veřejné"]
