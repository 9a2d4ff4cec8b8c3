"""The rules for stored group messages, message by message."""

from __future__ import annotations

import pytest

from client.audit.group_messages import check_group_message
from client.audit.results import Evidence
from protocol.case_envelope import CaseEnvelope, EnvelopeKind
from protocol.mls.constants import ContentType
from protocol.mls.framing import (
    FramedContent,
    FramedContentAuthData,
    MLSMessage,
    PrivateMessage,
    PublicMessage,
    Sender,
)
from protocol.mls.proposals import GroupContextExtensions, Proposal, Remove
from protocol.mls.welcome import Welcome
from tests.helpers import DeterministicRandom

GROUP = bytes(range(16))
RNG = DeterministicRandom("ciphertexts")


def _failures(payload: bytes) -> list[str]:
    evidence = Evidence("payloads")
    check_group_message("message", GROUP, payload, None, evidence)
    return [f.detail for f in evidence.result("ok").findings if f.failed]


def _private(content_type: ContentType, aad: bytes = b"", size: int = 272) -> bytes:
    body = PrivateMessage(
        group_id=GROUP, epoch=3, content_type=content_type, authenticated_data=aad,
        encrypted_sender_data=RNG.random_bytes(28), ciphertext=RNG.random_bytes(size),
    )  # fmt: skip
    return MLSMessage(body=body).to_bytes()


def _envelope(size: int = 272) -> bytes:
    return CaseEnvelope(
        kind=EnvelopeKind.CONTENT, epoch=3, item_id=bytes(16), ciphertext=RNG.random_bytes(size)
    ).to_bytes()


def _public(sender: Sender, proposal: Proposal) -> bytes:
    content = FramedContent(group_id=GROUP, epoch=3, sender=sender, content=proposal)
    tag = bytes(32) if sender.sender_type == 1 else None
    message = PublicMessage(
        content=content, auth=FramedContentAuthData(signature=bytes(64)), membership_tag=tag
    )
    return MLSMessage(body=message).to_bytes()


def test_well_formed_private_messages_pass() -> None:
    assert _failures(_private(ContentType.APPLICATION, _envelope())) == []
    assert _failures(_private(ContentType.COMMIT, size=1232)) == []


def test_an_external_remove_passes_when_no_log_is_at_hand() -> None:
    assert _failures(_public(Sender.external(0), Proposal(body=Remove(removed=1)))) == []


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (_private(ContentType.APPLICATION, _envelope(), size=300), "not a padded size"),
        (_private(ContentType.APPLICATION, _envelope(size=301)), "case envelope of 301 bytes"),
        (_private(ContentType.APPLICATION, b"not an envelope"), "not a case envelope"),
        (_private(ContentType.COMMIT, b"leaf 3 is Eva", size=1232), "authenticated data in"),
        (
            _public(Sender.member(1), Proposal(body=Remove(removed=2))),
            "a member's proposal sent as a PublicMessage",
        ),
        (
            _public(Sender.external(0), Proposal(body=GroupContextExtensions(extensions=()))),
            "not an Add or Remove",
        ),
    ],
    ids=["ciphertext", "envelope", "aad", "handshake-aad", "member-public", "external-update"],
)
def test_each_rule_names_its_breach(payload: bytes, expected: str) -> None:
    failures = _failures(payload)
    assert any(expected in failure for failure in failures), failures


def test_another_wire_format_is_refused() -> None:
    welcome = Welcome(cipher_suite=1, secrets=(), encrypted_group_info=RNG.random_bytes(300))
    assert any(
        "MLS_WELCOME where only group messages" in f
        for f in _failures(MLSMessage(body=welcome).to_bytes())
    )
    assert any("not an MLSMessage" in f for f in _failures(b"\x00\x01\x00\x09"))
