"""Proposals, PSK ids and commits (RFC 9420 §8.4, §12.1, §12.4)."""

from __future__ import annotations

import pytest

from protocol.errors import DecodeError
from protocol.mls.constants import ProposalOrRefType, ProposalType, ResumptionPSKUsage
from protocol.mls.proposals import (
    PROPOSAL_TYPES,
    Commit,
    ExternalPSKID,
    PreSharedKeyID,
    Proposal,
    ProposalBody,
    ProposalOrRef,
    Remove,
    ResumptionPSKID,
)
from tests.protocol.mls.samples import GREASE, commit, proposal_bodies, psk_ids


@pytest.mark.parametrize("body", proposal_bodies(), ids=lambda b: type(b).__name__)
def test_every_proposal_round_trips_bare_and_tagged(body: ProposalBody) -> None:
    bare = body.to_bytes()
    assert type(body).from_bytes(bare) == body
    proposal = Proposal(body=body)
    tagged = proposal.to_bytes()
    assert tagged == body.proposal_type.to_bytes(2, "big") + bare
    assert Proposal.from_bytes(tagged) == proposal
    assert proposal.proposal_type is body.proposal_type


def test_the_table_covers_the_seven_rfc_proposal_types() -> None:
    assert set(PROPOSAL_TYPES) == set(ProposalType)


def test_remove_layout() -> None:
    assert Remove(removed=258).to_bytes().hex() == "00000102"


@pytest.mark.parametrize("proposal_type", [0, 8, GREASE, 0xF000])
def test_unknown_proposal_type_cannot_be_parsed(proposal_type: int) -> None:
    data = proposal_type.to_bytes(2, "big") + Remove(removed=1).to_bytes()
    with pytest.raises(DecodeError, match="unsupported proposal type"):
        Proposal.from_bytes(data)


def test_psk_id_layouts() -> None:
    external, resumption = psk_ids()
    assert external.to_bytes().hex() == "01" + "05" + b"psk-1".hex() + "20" + "6e" * 32
    assert resumption.to_bytes().hex() == (
        "02" + "03" + "02" + b"g1".hex() + "0000000000000007" + "20" + "6d" * 32
    )
    for psk in (external, resumption):
        assert PreSharedKeyID.from_bytes(psk.to_bytes()) == psk


def test_psk_id_of_the_other_kind_is_refused() -> None:
    with pytest.raises(DecodeError, match="expected a ExternalPSKID"):
        ExternalPSKID.from_bytes(psk_ids()[1].to_bytes())


@pytest.mark.parametrize("psk_type", [0, 3])
def test_unknown_psk_type_is_refused(psk_type: int) -> None:
    with pytest.raises(DecodeError, match="unknown PSKType"):
        PreSharedKeyID.from_bytes(bytes([psk_type]) + psk_ids()[0].to_bytes()[1:])


@pytest.mark.parametrize("usage", [0, 4])
def test_unknown_resumption_usage_is_refused(usage: int) -> None:
    encoded = bytearray(psk_ids()[1].to_bytes())
    encoded[1] = usage
    with pytest.raises(DecodeError, match="unknown ResumptionPSKUsage"):
        PreSharedKeyID.from_bytes(bytes(encoded))


def test_resumption_usage_decodes_to_the_enum() -> None:
    decoded = PreSharedKeyID.from_bytes(psk_ids()[1].to_bytes())
    assert isinstance(decoded, ResumptionPSKID)
    assert decoded.usage is ResumptionPSKUsage.BRANCH


def test_proposal_or_ref_both_ways() -> None:
    inline = ProposalOrRef(value=Proposal(body=Remove(removed=1)))
    reference = ProposalOrRef(value=b"\x11" * 32)
    assert inline.type is ProposalOrRefType.PROPOSAL
    assert reference.type is ProposalOrRefType.REFERENCE
    assert inline.to_bytes().hex() == "01" + "0003" + "00000001"
    assert reference.to_bytes().hex() == "02" + "20" + "11" * 32
    for item in (inline, reference):
        assert ProposalOrRef.from_bytes(item.to_bytes()) == item


@pytest.mark.parametrize("tag", [0, 3])
def test_unknown_proposal_or_ref_type_is_refused(tag: int) -> None:
    with pytest.raises(DecodeError, match="unknown ProposalOrRefType"):
        ProposalOrRef.from_bytes(bytes([tag]) + b"\x00")


def test_commit_round_trip_with_and_without_path() -> None:
    full = commit()
    assert Commit.from_bytes(full.to_bytes()) == full
    partial = Commit(proposals=full.proposals)
    assert partial.to_bytes()[-1] == 0
    assert Commit.from_bytes(partial.to_bytes()) == partial
    assert Commit().to_bytes() == b"\x00\x00"


def test_commit_with_bad_path_flag_is_refused() -> None:
    with pytest.raises(DecodeError, match="presence flag"):
        Commit.from_bytes(b"\x00\x02")


def test_truncated_commit_is_refused() -> None:
    encoded = commit().to_bytes()
    with pytest.raises(DecodeError):
        Commit.from_bytes(encoded[:-3])
