"""Code points (RFC 9420 §17): closed enumerations refuse unknown values, open ones keep them."""

from __future__ import annotations

from enum import IntEnum

import pytest

from protocol.codec import Reader
from protocol.errors import DecodeError
from protocol.mls.constants import (
    DEFAULT_EXTENSION_TYPES,
    DEFAULT_PROPOSAL_TYPES,
    GREASE_VALUES,
    ContentType,
    CredentialType,
    ExtensionType,
    LeafNodeSource,
    NodeType,
    ProposalType,
    ProtocolVersion,
    PSKType,
    SenderType,
    WireFormat,
    closed,
    open_value,
    read_mls10,
)

CLOSED: list[type[IntEnum]] = [
    WireFormat,
    ContentType,
    SenderType,
    LeafNodeSource,
    PSKType,
    NodeType,
]


@pytest.mark.parametrize("enum", CLOSED)
def test_closed_enumerations_refuse_reserved_and_unknown_values(enum: type[IntEnum]) -> None:
    for value in (0, max(enum) + 1, 0xFF):
        with pytest.raises(DecodeError, match=f"unknown {enum.__name__}"):
            closed(enum, value)
    first = min(enum)
    assert closed(enum, int(first)) is first


@pytest.mark.parametrize("enum", [ExtensionType, ProposalType, CredentialType, ProtocolVersion])
def test_open_registries_keep_unknown_values_as_plain_ints(enum: type[IntEnum]) -> None:
    for value in (*sorted(GREASE_VALUES), 0xF123, 0):
        kept = open_value(enum, value)
        assert kept == value
        assert type(kept) is int
    assert open_value(enum, 1) is enum(1)


def test_wire_format_values_match_the_registry() -> None:
    assert [int(w) for w in WireFormat] == [1, 2, 3, 4, 5]
    assert WireFormat(5) is WireFormat.MLS_KEY_PACKAGE


def test_grease_values_are_the_fifteen_of_section_13_5() -> None:
    assert sorted(GREASE_VALUES) == [0x0A0A + 0x1010 * i for i in range(15)]
    assert 0xEAEA in GREASE_VALUES
    assert 0xFAFA not in GREASE_VALUES


def test_default_types_are_the_rfc_ones() -> None:
    assert {int(t) for t in DEFAULT_PROPOSAL_TYPES} == set(range(1, 8))
    assert {int(t) for t in DEFAULT_EXTENSION_TYPES} == set(range(1, 6))


def test_read_mls10_accepts_only_version_1() -> None:
    assert read_mls10(Reader(b"\x00\x01")) is ProtocolVersion.MLS10
    for data in (b"\x00\x00", b"\x00\x02", b"\x01\x01"):
        with pytest.raises(DecodeError, match="protocol version"):
            read_mls10(Reader(data))
