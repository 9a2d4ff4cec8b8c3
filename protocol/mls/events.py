"""What processing a message did to a group, as small immutable events (bytes in, events out).

The caller (the client's sync engine) turns these into its own records and notices; nothing
here is shown to a user without the client's credential checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol.mls.framing import Sender
from protocol.mls.leaf_node import LeafNode


@dataclass(frozen=True, slots=True)
class ApplicationMessage:
    """Application data from a member, decrypted and its signature verified."""

    sender_leaf: int
    data: bytes = field(repr=False)
    authenticated_data: bytes = b""
    generation: int = 0


@dataclass(frozen=True, slots=True)
class ProposalQueued:
    """A proposal was verified and cached for a later commit, under ``reference``."""

    sender: Sender
    proposal_type: int
    reference: bytes


@dataclass(frozen=True, slots=True)
class MemberAdded:
    leaf_index: int
    leaf_node: LeafNode


@dataclass(frozen=True, slots=True)
class MemberRemoved:
    leaf_index: int
    leaf_node: LeafNode


@dataclass(frozen=True, slots=True)
class MemberUpdated:
    leaf_index: int
    leaf_node: LeafNode


@dataclass(frozen=True, slots=True)
class EpochChanged:
    """The group moved to ``epoch``; ``committer`` is the committing member's leaf."""

    epoch: int
    committer: int


@dataclass(frozen=True, slots=True)
class RemovedFromGroup:
    """A commit removed this member: the group can no longer be used to send."""

    epoch: int


GroupEvent = (
    ApplicationMessage
    | ProposalQueued
    | MemberAdded
    | MemberRemoved
    | MemberUpdated
    | EpochChanged
    | RemovedFromGroup
)
