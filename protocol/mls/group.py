"""RFC 9420 §12: one case's MLS group as a sans-I/O state machine — bytes in, events out.

Theory of operation. A :class:`Group` holds the current :class:`EpochState` and at most
one commit of its own waiting for the relay's verdict::

    state        input                         effect
    ──────────   ───────────────────────────   ───────────────────────────────────────────
    active       process(application)          → ApplicationMessage
    active       process(proposal)             → ProposalQueued (cached by reference)
    active       process(commit)               → Processed with a StagedCommit; merge() it
    active       commit(...)                   → PendingCommit; state unchanged until
                                                  merge_pending() (relay accepted) or
                                                  discard_pending() (relay refused: 409)
    pending      process(...)                  as active (someone else's commit may win)
    removed      anything                      → GroupRemovedError
    reinit       protect/propose/commit        → GroupReinitializedError (§11.2)

A failed check raises a typed error and leaves the group exactly as it was: commits are
staged on copies, and a message's keys are consumed only once it decrypted.
Randomness (``rng``) and time (``now``) are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crypto.errors import CasecircleError
from crypto.random import RandomSource
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite
from protocol.errors import ValidationError, WrongEpochError
from protocol.mls.commit import (
    CreatedCommit,
    PskLookup,
    StagedCommit,
    create_commit,
    process_commit,
    proposal_ref,
    welcome_for,
)
from protocol.mls.constants import WireFormat
from protocol.mls.credentials import Credential
from protocol.mls.events import ApplicationMessage, GroupEvent, ProposalQueued
from protocol.mls.extensions import Extension
from protocol.mls.framing import (
    ApplicationData,
    AuthenticatedContent,
    FramedContent,
    MLSMessage,
    PrivateMessage,
    PublicMessage,
    Sender,
)
from protocol.mls.group_state import EpochState, create_group
from protocol.mls.group_state_codec import decode_state, encode_state
from protocol.mls.key_package import KeyPackage
from protocol.mls.leaf_node import Capabilities, Lifetime
from protocol.mls.leaf_validation import Now
from protocol.mls.message_protection import (
    protect_private,
    sign_content,
    unprotect_private,
    unprotect_public,
)
from protocol.mls.proposal_list import QueuedProposal, apply_proposals
from protocol.mls.proposals import Add, PreSharedKeyID, Proposal, Remove, Update


class GroupRemovedError(ValidationError):
    """This member was removed from the group; it can neither send nor read anymore."""

    code = "removed_from_group"


class WrongWireFormatError(ValidationError):
    """A message of a kind the group does not process (Welcome, KeyPackage, GroupInfo)."""

    code = "wrong_wire_format"


class GroupReinitializedError(ValidationError):
    """A committed ReInit closed this group; its successor is joined by a Welcome (§11.2)."""

    code = "group_reinitialized"


class PendingCommitError(ValidationError):
    """A commit of ours is already waiting, or none is waiting to be merged."""

    code = "pending_commit"


def no_psks(psk_id: PreSharedKeyID) -> bytes | None:
    return None


@dataclass(frozen=True, slots=True, eq=False)
class Processed:
    """What one incoming message did: its events, and for a commit the staged epoch."""

    events: tuple[GroupEvent, ...]
    staged: StagedCommit | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, eq=False)
class PendingCommit:
    """Our commit, ready to send: the MLSMessage, and the Welcome for the members it adds."""

    message: bytes
    welcome: bytes | None
    created: CreatedCommit = field(repr=False)


class Group:
    """A member's view of one group. Not thread-safe; the caller serialises calls."""

    def __init__(
        self, state: EpochState, signing_key: SigningKey, *, psks: PskLookup = no_psks
    ) -> None:
        if signing_key.public_key != state.tree.member(state.own_leaf).signature_key:
            raise ValidationError("the signing key is not the one of our leaf")
        self._state: EpochState | None = state
        self._signing_key = signing_key
        self._psks = psks
        self._pending: PendingCommit | None = None

    # --- construction ------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        suite: CipherSuite,
        group_id: bytes,
        signing_key: SigningKey,
        credential: Credential,
        capabilities: Capabilities,
        lifetime: Lifetime,
        rng: RandomSource,
        *,
        extensions: tuple[Extension, ...] = (),
    ) -> Group:
        state = create_group(
            suite, group_id, signing_key, credential, capabilities, lifetime, extensions, rng
        )
        return cls(state, signing_key)

    # --- reading -----------------------------------------------------------------------

    @property
    def state(self) -> EpochState:
        if self._state is None:
            raise GroupRemovedError("this member was removed from the group")
        return self._state

    @property
    def epoch(self) -> int:
        return self.state.epoch

    @property
    def group_id(self) -> bytes:
        return self.state.group_id

    @property
    def own_leaf(self) -> int:
        return self.state.own_leaf

    @property
    def epoch_authenticator(self) -> bytes:
        return self.state.secrets.epoch_authenticator

    @property
    def active(self) -> bool:
        return self._state is not None

    def export_secret(self, label: str | bytes, context: bytes, length: int) -> bytes:
        """MLS-Exporter of the current epoch (§8.5)."""
        return self.state.secrets.export(label, context, length)

    # --- sending -----------------------------------------------------------------------

    def protect(self, data: bytes, rng: RandomSource, *, authenticated_data: bytes = b"") -> bytes:
        """Application data as an MLSMessage(PrivateMessage) of the current epoch."""
        return self._send(ApplicationData(data=data), rng, authenticated_data)

    def propose(self, proposal: Proposal, rng: RandomSource) -> bytes:
        """Send ``proposal`` on its own (by reference in a later commit)."""
        return self._send(proposal, rng, b"")

    def _send(
        self, content: ApplicationData | Proposal, rng: RandomSource, authenticated_data: bytes
    ) -> bytes:
        state = self._sending_state()
        framed = FramedContent(
            group_id=state.group_id,
            epoch=state.epoch,
            sender=Sender.member(state.own_leaf),
            authenticated_data=authenticated_data,
            content=content,
        )
        signed = sign_content(
            state.suite, self._signing_key, WireFormat.MLS_PRIVATE_MESSAGE, framed, state.context
        )
        if isinstance(content, Proposal):
            ref = proposal_ref(state, signed)
            state.proposals[ref] = QueuedProposal(content, framed.sender, ref)
        message = protect_private(
            state.suite, signed, state.secret_tree, state.secrets.sender_data_secret, rng
        )
        return MLSMessage(body=message).to_bytes()

    def commit(
        self,
        rng: RandomSource,
        now: Now,
        *,
        add: tuple[KeyPackage, ...] = (),
        remove: tuple[int, ...] = (),
        update: bool = True,
        include_received: bool = True,
        authenticated_data: bytes = b"",
    ) -> PendingCommit:
        """Commit ``add`` and ``remove`` (by value) and the proposals received this epoch.

        The group keeps its epoch until :meth:`merge_pending`; a relay's refusal is
        answered by :meth:`discard_pending` and a new commit on top of the winner.
        """
        if self._pending is not None:
            raise PendingCommitError("a commit of ours is already waiting for the relay")
        state = self._sending_state()
        by_value = [Proposal(body=Add(key_package=kp)) for kp in add] + [
            Proposal(body=Remove(removed=leaf)) for leaf in remove
        ]
        by_reference = (
            _valid_references(state, by_value, _committable(state, remove), now)
            if include_received
            else []
        )
        created = create_commit(
            state,
            self._signing_key,
            by_value,
            by_reference,
            rng,
            now,
            self._psks,
            force_path=update,
            authenticated_data=authenticated_data,
        )
        message = protect_private(
            state.suite,
            created.staged.authenticated,
            state.secret_tree,
            state.secrets.sender_data_secret,
            rng,
        )
        self._pending = PendingCommit(
            message=MLSMessage(body=message).to_bytes(),
            welcome=welcome_for(created, rng),
            created=created,
        )
        return self._pending

    def _sending_state(self) -> EpochState:
        state = self.state
        if state.reinit is not None:
            raise GroupReinitializedError(
                "the group was closed by a ReInit; wait for its successor"
            )
        return state

    @property
    def pending(self) -> PendingCommit | None:
        return self._pending

    def merge_pending(self) -> tuple[GroupEvent, ...]:
        """The relay accepted our commit: move to its epoch."""
        if self._pending is None:
            raise PendingCommitError("no commit of ours is waiting")
        staged = self._pending.created.staged
        self._pending = None
        return self.merge(staged)

    def discard_pending(self) -> None:
        """The relay refused our commit (another won the epoch): forget it."""
        self._pending = None

    # --- receiving ---------------------------------------------------------------------

    def process(self, data: bytes, now: Now) -> Processed:
        """Process one MLSMessage for this group. Commits come back staged: :meth:`merge`."""
        state = self.state
        body = MLSMessage.from_bytes(data).body
        if isinstance(body, PrivateMessage):
            unverified = unprotect_private(
                state.suite,
                body,
                state.secret_tree,
                state.secrets.sender_data_secret,
                state.context,
                state.is_member,
            )
        elif isinstance(body, PublicMessage):
            unverified = unprotect_public(
                state.suite, body, state.secrets.membership_key, state.context
            )
        else:
            raise WrongWireFormatError(f"a group does not process a {type(body).__name__}")
        key = state.signature_key_of(unverified.sender)
        authenticated = unverified.verify(state.suite, key, state.context)
        return self._handle(state, authenticated, now)

    def _handle(
        self, state: EpochState, authenticated: AuthenticatedContent, now: Now
    ) -> Processed:
        content = authenticated.content
        match content.content:
            case ApplicationData(data=data):
                sender = content.sender.index if content.sender.index is not None else -1
                return Processed((ApplicationMessage(sender, data, content.authenticated_data),))
            case Proposal() as proposal:
                ref = proposal_ref(state, authenticated)
                state.proposals[ref] = QueuedProposal(proposal, content.sender, ref)
                return Processed((ProposalQueued(content.sender, proposal.proposal_type, ref),))
            case _:
                staged = process_commit(state, authenticated, now, self._psks)
                return Processed(staged.events, staged)

    def merge(self, staged: StagedCommit) -> tuple[GroupEvent, ...]:
        """Make a staged commit the group's state (the epoch advances, or we are out).

        Only a commit staged on the current epoch can be merged: a second commit of the
        same epoch, or an old one merged again, would fork or roll back the group.
        """
        if staged.authenticated.content.epoch != self.state.epoch:
            raise WrongEpochError(
                f"the staged commit is for epoch {staged.authenticated.content.epoch}, "
                f"the group is at {self.state.epoch}"
            )
        self._state = staged.state
        self._pending = None
        return staged.events

    # --- persistence -------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The current epoch's whole state, for the client to store (format and checks:
        :mod:`protocol.mls.group_state_codec`).

        The bytes hold the group's secrets and our private keys: the caller seals them (the
        client's local store encrypts them). Store them after every call that changes the
        state, before that call's output is sent. A pending commit of ours is not included:
        after a restart the client resends or rebuilds it on the restored epoch, and the
        relay answers a stale one with 409. Merge and store as soon as the relay accepts
        a commit: a member that lost its accepted commit cannot process it and must rejoin.
        """
        return encode_state(self.state)

    @classmethod
    def from_bytes(
        cls, data: bytes, signing_key: SigningKey, *, psks: PskLookup = no_psks
    ) -> Group:
        """A group restored from :meth:`to_bytes`, with no pending commit; ``DecodeError`` or
        a ``ValidationError`` if ``data`` is not one consistent state or ``signing_key`` is
        not the key of our leaf."""
        return cls(decode_state(data), signing_key, psks=psks)


def _valid_references(
    state: EpochState, by_value: list[Proposal], candidates: list[bytes], now: Now
) -> list[bytes]:
    """The received proposals that keep the list valid (§12.4: include all *valid* ones).

    An insider can send a proposal that is well signed but invalid (an Update reusing
    someone's key, a Remove of the committer); including it would make every honest
    commit fail, so each candidate is tried against the list built so far.
    """
    suite = state.suite
    own = Sender.member(state.own_leaf)
    chosen: list[bytes] = []
    for ref in candidates:
        trial = [QueuedProposal(p, own) for p in by_value] + [
            state.proposals[r] for r in (*chosen, ref)
        ]
        try:
            apply_proposals(
                suite, state.tree, state.extensions, state.group_id, trial, state.own_leaf, now
            )
        except CasecircleError:
            continue
        chosen.append(ref)
    return chosen


def _committable(state: EpochState, removing: tuple[int, ...]) -> list[bytes]:
    """References of received proposals to include: one per leaf touched, no duplicates.

    Two proposals may name the same leaf (a coordinator's Remove seen twice, one with a
    re-encoded signature); committing both would make the list invalid (§12.2).
    """
    refs: list[bytes] = []
    touched = set(removing)
    seen_bodies: set[bytes] = set()
    for ref, queued in state.proposals.items():
        body = queued.proposal.body
        leaf = None
        if isinstance(body, Remove):
            leaf = body.removed
        elif isinstance(body, Update):
            leaf = queued.sender.index
            if leaf == state.own_leaf:
                continue
        encoded = queued.proposal.to_bytes()
        if encoded in seen_bodies or (leaf is not None and leaf in touched):
            continue
        seen_bodies.add(encoded)
        if leaf is not None:
            touched.add(leaf)
        refs.append(ref)
    return refs
