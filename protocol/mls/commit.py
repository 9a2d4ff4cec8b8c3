"""RFC 9420 §12.4.1–§12.4.2: creating and processing a commit, staged, never half applied.

Both sides run the same steps on the same inputs, so they reach the same epoch::

    proposals (by value, or by reference to ones received in this epoch)
      └► apply to a copy of the tree (§12.2, §12.3)             proposal_list
          └► UpdatePath if required or wanted (§7.5)            treekem
              └► provisional GroupContext (new epoch, new tree hash, old transcript)
    sign the FramedContent with the old GroupContext
      └► confirmed transcript hash ─► new GroupContext ─► key schedule (init, commit, PSK)
          └► confirmation tag ─► interim transcript hash ─► new EpochState

Nothing here changes the current :class:`~protocol.mls.group_state.EpochState` except its
secret tree, whose handshake key the commit itself is encrypted under. The result is a
:class:`StagedCommit`; the caller makes it the group's state (after the relay accepted
it, for its own commits), or drops it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from crypto.labels import ref_hash
from crypto.random import RandomSource
from crypto.signatures import SigningKey
from protocol.errors import UnknownSenderError, ValidationError
from protocol.mls.constants import LeafNodeSource, SenderType, WireFormat
from protocol.mls.events import (
    EpochChanged,
    GroupEvent,
    MemberAdded,
    MemberRemoved,
    MemberUpdated,
    RemovedFromGroup,
)
from protocol.mls.extensions import (
    Extension,
    ExternalPub,
    RequiredCapabilities,
    find_extension,
)
from protocol.mls.framing import (
    AuthenticatedContent,
    FramedContent,
    FramedContentAuthData,
    InterimTranscriptHashInput,
    MLSMessage,
    Sender,
)
from protocol.mls.group_context import GroupContext
from protocol.mls.group_state import EpochState
from protocol.mls.key_schedule import CommitSecret, EpochStart, PskSecret, start_epoch
from protocol.mls.leaf_validation import Now, validate_leaf_node
from protocol.mls.message_protection import sign_content
from protocol.mls.proposal_list import AppliedProposals, QueuedProposal, apply_proposals
from protocol.mls.proposals import Commit, PreSharedKeyID, Proposal, ProposalOrRef
from protocol.mls.psk import PskInput, derive_psk_secret
from protocol.mls.transcript import (
    confirmation_tag,
    confirmed_transcript_hash,
    interim_transcript_hash,
    verify_confirmation_tag,
)
from protocol.mls.tree_hash import tree_hash
from protocol.mls.tree_keys import TreePrivateKeys
from protocol.mls.tree_nodes import RatchetTreeExtension
from protocol.mls.treekem import create_update_path, process_update_path
from protocol.mls.welcome import GroupInfo
from protocol.mls.welcome_protection import WelcomeRecipient, create_welcome, sign_group_info

PROPOSAL_REF_LABEL = b"MLS 1.0 Proposal Reference"

PskLookup = Callable[[PreSharedKeyID], bytes | None]


class InvalidCommitError(ValidationError):
    """A commit breaks a rule of §12.4 (missing path, unknown reference, own commit…)."""

    code = "invalid_commit"


class UnknownProposalError(InvalidCommitError):
    """A commit refers to a proposal this member never received in this epoch."""

    code = "unknown_proposal"


class UnknownPskError(InvalidCommitError):
    """A commit injects a PSK this member does not hold."""

    code = "unknown_psk"


def proposal_ref(state: EpochState, authenticated: AuthenticatedContent) -> bytes:
    """§5.2: ``RefHash("MLS 1.0 Proposal Reference", AuthenticatedContent)``."""
    return ref_hash(state.suite, PROPOSAL_REF_LABEL, authenticated.to_bytes())


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class StagedCommit:
    """A verified (or freshly created) commit and the epoch it leads to."""

    state: EpochState | None
    """The new epoch, or ``None`` when the commit removed this member."""
    events: tuple[GroupEvent, ...]
    authenticated: AuthenticatedContent
    welcome_secrets: EpochStart | None = field(default=None, repr=False)
    added: tuple[tuple[int, Proposal], ...] = ()


def _resolve(state: EpochState, commit: Commit, committer: Sender) -> list[QueuedProposal]:
    queued: list[QueuedProposal] = []
    for entry in commit.proposals:
        if isinstance(entry.value, Proposal):
            queued.append(QueuedProposal(entry.value, committer))
        else:
            found = state.proposals.get(entry.value)
            if found is None:
                raise UnknownProposalError("the commit refers to a proposal we never received")
            queued.append(found)
    return queued


def _psk_secret(
    state: EpochState, applied: AppliedProposals, lookup: PskLookup
) -> tuple[PskSecret, list[PskInput]]:
    inputs: list[PskInput] = []
    for psk_id in applied.psks:
        value = state.resumption_psk(psk_id) or lookup(psk_id)
        if value is None:
            raise UnknownPskError("the commit injects a PSK we do not hold")
        inputs.append(PskInput(psk_id, value))
    return derive_psk_secret(state.suite, inputs), inputs


def _provisional_context(
    state: EpochState, extensions: tuple[Extension, ...]
) -> Callable[[bytes], bytes]:
    def build(new_tree_hash: bytes) -> bytes:
        return GroupContext(
            cipher_suite=state.suite.suite_id,
            group_id=state.group_id,
            epoch=state.epoch + 1,
            tree_hash=new_tree_hash,
            confirmed_transcript_hash=state.context.confirmed_transcript_hash,
            extensions=extensions,
        ).to_bytes()

    return build


def _events(
    state: EpochState, applied: AppliedProposals, committer: int, new_epoch: int
) -> list[GroupEvent]:
    events: list[GroupEvent] = []
    for index in applied.updated:
        events.append(MemberUpdated(index, applied.tree.member(index)))
    for index, _key in applied.removed:
        events.append(MemberRemoved(index, state.tree.member(index)))
    for index, add in applied.added:
        events.append(MemberAdded(index, add.key_package.leaf_node))
    events.append(EpochChanged(new_epoch, committer))
    return events


def _finish_epoch(
    state: EpochState,
    authenticated_without_tag: AuthenticatedContent,
    new_tree_hash: bytes,
    extensions: tuple[Extension, ...],
    commit_secret: CommitSecret,
    psk_secret: PskSecret,
) -> tuple[GroupContext, EpochStart, bytes]:
    """Confirmed transcript hash → new GroupContext → key schedule → confirmation tag."""
    suite = state.suite
    confirmed = confirmed_transcript_hash(
        suite,
        state.interim_transcript_hash,
        authenticated_without_tag.confirmed_transcript_hash_input(),
    )
    context = GroupContext(
        cipher_suite=suite.suite_id,
        group_id=state.group_id,
        epoch=state.epoch + 1,
        tree_hash=new_tree_hash,
        confirmed_transcript_hash=confirmed,
        extensions=extensions,
    )
    start = start_epoch(
        suite, state.secrets.init_secret, commit_secret, psk_secret, context.to_bytes()
    )
    tag = confirmation_tag(suite, start.secrets.confirmation_key, confirmed)
    return context, start, tag


def _next_state(
    state: EpochState,
    context: GroupContext,
    applied: AppliedProposals,
    keys: TreePrivateKeys,
    start: EpochStart,
    tag: bytes,
) -> EpochState:
    """The epoch a commit leads to: interim transcript hash from its confirmation tag."""
    interim = interim_transcript_hash(
        state.suite,
        context.confirmed_transcript_hash,
        InterimTranscriptHashInput(confirmation_tag=tag).to_bytes(),
    )
    new_state = EpochState.start(
        state.suite, context, applied.tree, keys, start.secrets, interim, previous=state
    )
    new_state.reinit = applied.reinit
    return new_state


# --- processing (§12.4.2) -------------------------------------------------------------------


def process_commit(
    state: EpochState,
    authenticated: AuthenticatedContent,
    now: Now,
    psks: PskLookup,
) -> StagedCommit:
    """Stage a commit whose framing and signature were already verified in ``state``."""
    suite = state.suite
    content = authenticated.content
    commit = content.content
    if not isinstance(commit, Commit):
        raise InvalidCommitError("not a commit")
    sender = content.sender
    if sender.sender_type != SenderType.MEMBER or sender.index is None:
        raise InvalidCommitError("only member commits are supported; external joins are not")
    committer = sender.index
    if committer == state.own_leaf:
        raise InvalidCommitError("our own commit came back: merge the staged commit instead")
    if not state.is_member(committer):
        raise UnknownSenderError(f"leaf {committer} is not a member")

    applied = apply_proposals(
        suite, state.tree, state.extensions, state.group_id, _resolve(state, commit, sender),
        committer, now,
    )  # fmt: skip
    if (applied.path_required or not commit.proposals) and commit.path is None:
        raise InvalidCommitError("this commit must carry an UpdatePath")
    psk_secret, _ = _psk_secret(state, applied, psks)
    new_leaves = [index for index, _ in applied.added]

    if any(index == state.own_leaf for index, _ in applied.removed):
        removal: tuple[GroupEvent, ...] = (RemovedFromGroup(state.epoch + 1),)
        return StagedCommit(state=None, events=removal, authenticated=authenticated)

    keys = state.keys.retained_in(applied.tree)
    if commit.path is not None:
        leaf = commit.path.leaf_node
        required = find_extension(applied.extensions, RequiredCapabilities)
        validate_leaf_node(
            suite, leaf, source=LeafNodeSource.COMMIT, now=now, group_id=state.group_id,
            leaf_index=committer, tree=applied.tree, required=required,
        )  # fmt: skip
        processed = process_update_path(
            suite,
            applied.tree,
            committer,
            commit.path,
            keys,
            provisional_context=_provisional_context(state, applied.extensions),
            new_leaves=new_leaves,
        )
        commit_secret = processed.commit_secret
        keys = processed.private_keys
        new_tree_hash = processed.tree_hash
    else:
        commit_secret = CommitSecret.zero(suite)
        new_tree_hash = tree_hash(suite, applied.tree)

    context, start, _ = _finish_epoch(
        state, authenticated, new_tree_hash, applied.extensions, commit_secret, psk_secret
    )
    received = authenticated.auth.confirmation_tag
    if received is None:
        raise InvalidCommitError("a commit without a confirmation tag")
    verify_confirmation_tag(
        suite, start.secrets.confirmation_key, context.confirmed_transcript_hash, received
    )
    new_state = _next_state(state, context, applied, keys, start, received)
    events = tuple(_events(state, applied, committer, context.epoch))
    return StagedCommit(state=new_state, events=events, authenticated=authenticated)


# --- creation (§12.4.1) ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CreatedCommit:
    """Our own commit, staged: the content to protect and send, and the Welcome if any."""

    staged: StagedCommit
    welcome_group_info: GroupInfo | None
    recipients: tuple[WelcomeRecipient, ...]
    psks: tuple[PskInput, ...]


def create_commit(
    state: EpochState,
    signing_key: SigningKey,
    by_value: Sequence[Proposal],
    by_reference: Sequence[bytes],
    rng: RandomSource,
    now: Now,
    psks: PskLookup,
    *,
    force_path: bool = True,
    wire_format: WireFormat = WireFormat.MLS_PRIVATE_MESSAGE,
    authenticated_data: bytes = b"",
    group_info_extensions: tuple[Extension, ...] = (),
) -> CreatedCommit:
    """Build and sign our commit over ``by_value`` proposals and received ones ``by_reference``."""
    suite = state.suite
    own = state.own_leaf
    sender = Sender.member(own)
    entries = tuple(ProposalOrRef(value=p) for p in by_value) + tuple(
        ProposalOrRef(value=ref) for ref in by_reference
    )
    commit_without_path = Commit(proposals=entries)
    applied = apply_proposals(
        suite, state.tree, state.extensions, state.group_id,
        _resolve(state, commit_without_path, sender), own, now,
    )  # fmt: skip
    psk_secret, psk_inputs = _psk_secret(state, applied, psks)
    new_leaves = [index for index, _ in applied.added]

    keys = state.keys.retained_in(applied.tree)
    path_secrets = None
    if applied.path_required or force_path or not entries:
        created = create_update_path(
            suite,
            applied.tree,
            own,
            leaf=applied.tree.member(own),
            signing_key=signing_key,
            group_id=state.group_id,
            provisional_context=_provisional_context(state, applied.extensions),
            rng=rng,
            new_leaves=new_leaves,
        )
        commit = Commit(proposals=entries, path=created.update_path)
        commit_secret = created.commit_secret
        keys = created.private_keys
        new_tree_hash = created.tree_hash
        path_secrets = created
    else:
        commit = commit_without_path
        commit_secret = CommitSecret.zero(suite)
        new_tree_hash = tree_hash(suite, applied.tree)

    framed = FramedContent(
        group_id=state.group_id,
        epoch=state.epoch,
        sender=sender,
        authenticated_data=authenticated_data,
        content=commit,
    )
    placeholder = bytes(suite.hash_size)
    signed = sign_content(suite, signing_key, wire_format, framed, state.context, placeholder)
    context, start, tag = _finish_epoch(
        state, signed, new_tree_hash, applied.extensions, commit_secret, psk_secret
    )
    authenticated = dataclasses.replace(
        signed, auth=FramedContentAuthData(signature=signed.auth.signature, confirmation_tag=tag)
    )
    new_state = _next_state(state, context, applied, keys, start, tag)
    events = tuple(_events(state, applied, own, context.epoch))
    staged = StagedCommit(
        state=new_state,
        events=events,
        authenticated=authenticated,
        welcome_secrets=start,
        added=tuple((index, Proposal(body=add)) for index, add in applied.added),
    )
    if not applied.added:
        return CreatedCommit(staged=staged, welcome_group_info=None, recipients=(), psks=())
    extensions = (
        RatchetTreeExtension(nodes=applied.tree.wire_nodes()).to_extension(),
        ExternalPub(external_pub=start.secrets.external_public_key()).to_extension(),
        *group_info_extensions,
    )
    group_info = sign_group_info(
        suite,
        signing_key,
        GroupInfo(
            group_context=context,
            extensions=extensions,
            confirmation_tag=tag,
            signer=own,
            signature=b"",
        ),
    )
    recipients = tuple(
        WelcomeRecipient(
            key_package=add.key_package,
            path_secret=None if path_secrets is None else path_secrets.welcome_path_secret(index),
        )
        for index, add in applied.added
    )
    return CreatedCommit(
        staged=staged, welcome_group_info=group_info, recipients=recipients, psks=tuple(psk_inputs)
    )


def welcome_for(created: CreatedCommit, rng: RandomSource) -> bytes | None:
    """The Welcome, as an MLSMessage, for every member the commit added (one for all)."""
    start = created.staged.welcome_secrets
    if created.welcome_group_info is None or start is None:
        return None
    state = created.staged.state
    assert state is not None
    welcome = create_welcome(
        state.suite, created.welcome_group_info, start.joiner_secret, created.recipients, rng,
        psks=created.psks,
    )  # fmt: skip
    return MLSMessage(body=welcome).to_bytes()
