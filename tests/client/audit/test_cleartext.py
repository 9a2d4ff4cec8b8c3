"""The plaintext detector: readable text and compressible data are flagged, ciphertext is not."""

from __future__ import annotations

import pytest

from client.audit.cleartext import cleartext_evidence
from tests.helpers import DeterministicRandom

NOTE = "Ošetřena v nemocnici, zpráva v příloze; kontrola za týden."


def test_random_bytes_pass() -> None:
    rng = DeterministicRandom("cipher")
    for size in (16, 272, 4096, 200_000):
        assert cleartext_evidence(rng.random_bytes(size)) is None


@pytest.mark.parametrize(
    "data",
    [
        NOTE.encode("utf-8"),
        NOTE.encode("utf-16-le"),
        NOTE.encode("utf-16-be"),
        NOTE.encode().hex().encode(),
        b"\x93\x11" + b"aGVsbG8gd29ybGQsIHRoaXMgaXMgYmFzZTY0IHRleHQh" + b"\xfe",
    ],
    ids=["utf-8", "utf-16-le", "utf-16-be", "hex", "base64"],
)
def test_text_in_any_common_form_is_flagged(data: bytes) -> None:
    rng = DeterministicRandom("around")
    evidence = cleartext_evidence(rng.random_bytes(50) + data + rng.random_bytes(50))
    assert evidence is not None and "readable" in evidence


def test_zeros_and_repetition_are_flagged() -> None:
    assert "compresses" in (cleartext_evidence(bytes(4096)) or "")
    rng = DeterministicRandom("repeat")
    assert "compresses" in (cleartext_evidence(rng.random_bytes(20) * 100) or "")


def test_the_quoted_evidence_is_short() -> None:
    evidence = cleartext_evidence(("x" * 10 + NOTE * 3).encode())
    assert evidence is not None
    assert NOTE not in evidence
