"""The group context (RFC 9420 §8.1): exact layout, version fixed to mls10."""

from __future__ import annotations

import pytest

from protocol.errors import DecodeError
from protocol.mls.extensions import ExternalSenders, RequiredCapabilities, find_extension
from protocol.mls.group_context import GroupContext
from tests.protocol.mls.samples import group_context


def test_layout_of_a_minimal_context() -> None:
    context = GroupContext(
        cipher_suite=2, group_id=b"g", epoch=1, tree_hash=b"t", confirmed_transcript_hash=b""
    )
    expected = "0001" + "0002" + "0167" + "0000000000000001" + "0174" + "00" + "00"
    assert context.to_bytes().hex() == expected
    assert GroupContext.from_bytes(context.to_bytes()) == context


def test_round_trip_with_extensions() -> None:
    context = group_context()
    decoded = GroupContext.from_bytes(context.to_bytes())
    assert decoded == context
    assert find_extension(decoded.extensions, RequiredCapabilities) is not None
    senders = find_extension(decoded.extensions, ExternalSenders)
    assert senders is not None
    assert len(senders.senders) == 1


@pytest.mark.parametrize("version", [b"\x00\x00", b"\x00\x02", b"\x0a\x0a"])
def test_other_versions_are_refused(version: bytes) -> None:
    encoded = version + group_context().to_bytes()[2:]
    with pytest.raises(DecodeError, match="protocol version"):
        GroupContext.from_bytes(encoded)


def test_truncated_and_trailing_are_refused() -> None:
    encoded = group_context().to_bytes()
    with pytest.raises(DecodeError, match="truncated"):
        GroupContext.from_bytes(encoded[:-1])
    with pytest.raises(DecodeError, match="trailing"):
        GroupContext.from_bytes(encoded + b"\x00")
