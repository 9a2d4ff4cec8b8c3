"""RFC 9420 §12.1, §12.2, §12.3: validating a commit's proposal list and applying it.

A committer and every member that processes its commit run the same function on the same
inputs, so they reach the same tree or the same typed error. The list is applied to a copy
of the tree in the RFC's order::

    GroupContextExtensions → Updates → Removes → Adds (in list order) → PSKs (in list order)

The rules of §12.2 that need the whole list (one change per leaf, no self-removal, no
duplicate clients or PSKs, ReInit alone, no ExternalInit in a member's commit) are checked
before anything is applied; the rules for each proposal (§12.1, §10.1, §7.3) as it is
applied, against the tree as it stands at that moment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from crypto.suites import CipherSuite
from protocol.errors import ValidationError
from protocol.mls.constants import (
    LeafNodeSource,
    ProposalType,
    ProtocolVersion,
    ResumptionPSKUsage,
    SenderType,
)
from protocol.mls.extensions import Extension, RequiredCapabilities, find_extension
from protocol.mls.framing import Sender
from protocol.mls.key_packages import validate_key_package
from protocol.mls.leaf_node import LeafNode
from protocol.mls.leaf_validation import (
    LeafCapabilitiesError,
    Now,
    check_capabilities,
    check_credential_support,
    check_unique_keys,
    validate_leaf_node,
)
from protocol.mls.proposals import (
    Add,
    ExternalInit,
    ExternalPSKID,
    GroupContextExtensions,
    PreSharedKey,
    PreSharedKeyID,
    Proposal,
    ReInit,
    Remove,
    ResumptionPSKID,
    Update,
)
from protocol.mls.ratchet_tree import RatchetTree

PATH_REQUIRED_TYPES = frozenset(
    {
        ProposalType.UPDATE,
        ProposalType.REMOVE,
        ProposalType.EXTERNAL_INIT,
        ProposalType.GROUP_CONTEXT_EXTENSIONS,
    }
)
"""§12.4: proposal types whose commit must carry an UpdatePath."""


class InvalidProposalError(ValidationError):
    """A proposal, or the list of proposals a commit covers, breaks a rule of §12.1–§12.2."""

    code = "invalid_proposal"


@dataclass(frozen=True, slots=True)
class QueuedProposal:
    """A proposal with the sender that proposed it (the committer for by-value ones)."""

    proposal: Proposal
    sender: Sender
    reference: bytes | None = None
    """The ProposalRef when the proposal was sent on its own and committed by reference."""


@dataclass(slots=True)
class AppliedProposals:
    """The outcome of applying a proposal list: the staged tree and what changed."""

    tree: RatchetTree
    extensions: tuple[Extension, ...]
    added: list[tuple[int, Add]] = field(default_factory=list)
    removed: list[tuple[int, bytes]] = field(default_factory=list)
    """(leaf index, signature key of the removed leaf)."""
    updated: list[int] = field(default_factory=list)
    psks: list[PreSharedKeyID] = field(default_factory=list)
    reinit: ReInit | None = None
    external_init: ExternalInit | None = None
    path_required: bool = False


def path_required(proposals: Sequence[QueuedProposal]) -> bool:
    """§12.4: an empty commit, or one with a path-required proposal, needs an UpdatePath."""
    return not proposals or any(q.proposal.proposal_type in PATH_REQUIRED_TYPES for q in proposals)


def _check_list(proposals: Sequence[QueuedProposal], committer: int) -> None:
    """The list-level rules of §12.2 for a member's (not external) commit."""
    touched: Counter[int] = Counter()
    kinds: Counter[int] = Counter()
    for queued in proposals:
        body = queued.proposal.body
        kinds[body.proposal_type] += 1
        match body:
            case Update():
                if queued.sender.sender_type != SenderType.MEMBER or queued.sender.index is None:
                    raise InvalidProposalError("an Update must come from a member")
                if queued.sender.index == committer:
                    raise InvalidProposalError("a commit may not cover the committer's own Update")
                touched[queued.sender.index] += 1
            case Remove(removed=removed):
                if removed == committer:
                    raise InvalidProposalError("a commit may not remove the committer")
                touched[removed] += 1
            case ExternalInit():
                raise InvalidProposalError("ExternalInit is only for external commits")
    if any(count > 1 for count in touched.values()):
        raise InvalidProposalError("several Update/Remove proposals for the same leaf")
    if kinds[ProposalType.GROUP_CONTEXT_EXTENSIONS] > 1:
        raise InvalidProposalError("more than one GroupContextExtensions proposal")
    if kinds[ProposalType.REINIT] and len(proposals) > 1:
        raise InvalidProposalError("a ReInit must be committed on its own")
    psk_ids = [
        q.proposal.body.psk.to_bytes()
        for q in proposals
        if isinstance(q.proposal.body, PreSharedKey)
    ]
    if len(psk_ids) != len(set(psk_ids)):
        raise InvalidProposalError("the same PSK is proposed twice")


_APPLICATION_ORDER = {
    ProposalType.GROUP_CONTEXT_EXTENSIONS: 0,
    ProposalType.UPDATE: 1,
    ProposalType.REMOVE: 2,
    ProposalType.ADD: 3,
    ProposalType.PSK: 4,
    ProposalType.REINIT: 5,
}


def apply_proposals(
    suite: CipherSuite,
    tree: RatchetTree,
    extensions: tuple[Extension, ...],
    group_id: bytes,
    proposals: Sequence[QueuedProposal],
    committer: int,
    now: Now,
) -> AppliedProposals:
    """Validate ``proposals`` for a member's commit from leaf ``committer`` and apply them
    to a copy of ``tree``; raise :class:`InvalidProposalError` (or a leaf or key package
    error) on the first rule broken. ``tree`` itself is not changed."""
    _check_list(proposals, committer)
    result = AppliedProposals(tree=tree.copy(), extensions=extensions)
    result.path_required = path_required(proposals)
    # A stable sort keeps Adds and PSKs in list order, as §12.3 requires.
    ordered = sorted(proposals, key=lambda q: _APPLICATION_ORDER[q.proposal.proposal_type])
    required = find_extension(extensions, RequiredCapabilities)
    for queued in ordered:
        match queued.proposal.body:
            case GroupContextExtensions(extensions=new_extensions):
                result.extensions = new_extensions
                required = find_extension(new_extensions, RequiredCapabilities)
            case Update(leaf_node=leaf):
                _apply_update(suite, result, group_id, queued.sender, leaf, required, now)
            case Remove(removed=removed):
                _apply_remove(result, removed)
            case Add() as add:
                _apply_add(suite, result, add, required, now)
            case PreSharedKey(psk=psk):
                _check_psk(suite, psk)
                result.psks.append(psk)
            case ReInit() as reinit:
                if reinit.version < ProtocolVersion.MLS10:
                    raise InvalidProposalError("a ReInit may not lower the protocol version")
                result.reinit = reinit
    if required is not None and required != find_extension(extensions, RequiredCapabilities):
        _check_members_support(result.tree, required)
    return result


def _apply_update(
    suite: CipherSuite,
    result: AppliedProposals,
    group_id: bytes,
    sender: Sender,
    leaf: LeafNode,
    required: RequiredCapabilities | None,
    now: Now,
) -> None:
    index = sender.index
    if index is None or result.tree.leaf_node(index) is None:
        raise InvalidProposalError("an Update from a leaf that is not a member")
    validate_leaf_node(
        suite,
        leaf,
        source=LeafNodeSource.UPDATE,
        now=now,
        group_id=group_id,
        leaf_index=index,
        tree=result.tree,
        required=required,
    )
    result.tree.update_leaf(index, leaf)
    result.updated.append(index)


def _apply_remove(result: AppliedProposals, removed: int) -> None:
    if not 0 <= removed < result.tree.leaf_count:
        raise InvalidProposalError(f"Remove names leaf {removed}, outside the tree")
    leaf = result.tree.leaf_node(removed)
    if leaf is None:
        raise InvalidProposalError(f"Remove names leaf {removed}, which is blank")
    result.removed.append((removed, leaf.signature_key))
    result.tree.remove_leaf(removed)


def _apply_add(
    suite: CipherSuite,
    result: AppliedProposals,
    add: Add,
    required: RequiredCapabilities | None,
    now: Now,
) -> None:
    key_package = add.key_package
    validate_key_package(suite, key_package, now=now)
    leaf = key_package.leaf_node
    check_capabilities(leaf, required)
    check_credential_support(result.tree, leaf)
    check_unique_keys(result.tree, leaf)
    result.added.append((result.tree.add_leaf(leaf), add))


def _check_psk(suite: CipherSuite, psk: PreSharedKeyID) -> None:
    """§12.1.4: a fresh nonce of Nh bytes; reinit and branch PSKs only where they belong."""
    match psk:
        case ResumptionPSKID(usage=usage) if usage != ResumptionPSKUsage.APPLICATION:
            raise InvalidProposalError("reinit and branch PSKs cannot be proposed")
        case ExternalPSKID(psk_nonce=nonce) | ResumptionPSKID(psk_nonce=nonce):
            if len(nonce) != suite.hash_size:
                raise InvalidProposalError("a PSK nonce must be KDF.Nh bytes")
        case _:
            raise InvalidProposalError(f"unknown PSK type {psk.psk_type}")


def _check_members_support(tree: RatchetTree, required: RequiredCapabilities) -> None:
    """§12.1.7: new required capabilities must be supported by every member after the commit."""
    for index, leaf in tree.members():
        try:
            check_capabilities(leaf, required)
        except LeafCapabilitiesError as exc:
            raise InvalidProposalError(
                f"member {index} does not support the required capabilities"
            ) from exc
