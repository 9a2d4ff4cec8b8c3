"""RFC 9420 §8, §9, §11: everything a member holds for one epoch of one group.

An :class:`EpochState` is what the group state machine moves from epoch to epoch: the
public tree and GroupContext everybody agrees on, the member's private tree keys, the
epoch's secrets, the running interim transcript hash, the secret tree its messages are
encrypted under, and the proposals received in this epoch. A commit produces a new one
(staged) and the caller swaps it in once the commit is accepted.

The epoch's ``encryption_secret`` is handed to the secret tree and then dropped from the
kept secrets (§9.2: consumed keys must not be re-derivable).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from crypto.random import RandomSource
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite
from protocol.errors import UnknownSenderError
from protocol.mls.constants import SenderType
from protocol.mls.credentials import Credential
from protocol.mls.extensions import Extension, ExternalSenders, find_extension
from protocol.mls.framing import InterimTranscriptHashInput, Sender
from protocol.mls.group_context import GroupContext
from protocol.mls.key_packages import create_key_package
from protocol.mls.key_schedule import EpochSecrets
from protocol.mls.leaf_node import Capabilities, LeafNode, Lifetime
from protocol.mls.proposal_list import QueuedProposal
from protocol.mls.proposals import PreSharedKeyID, ReInit, ResumptionPSKID
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.secret_tree import SecretTree
from protocol.mls.transcript import confirmation_tag, interim_transcript_hash
from protocol.mls.tree_hash import tree_hash
from protocol.mls.tree_keys import TreePrivateKeys

RESUMPTION_PSKS_KEPT = 16
"""How many epochs back a resumption PSK of this group can be injected."""


@dataclass(slots=True, eq=False)
class EpochState:
    """One member's view of one epoch; the secret tree is the only part that changes in it."""

    suite: CipherSuite = field(repr=False)
    context: GroupContext
    tree: RatchetTree = field(repr=False)
    keys: TreePrivateKeys = field(repr=False)
    secrets: EpochSecrets = field(repr=False)
    secret_tree: SecretTree = field(repr=False)
    interim_transcript_hash: bytes = field(repr=False)
    proposals: dict[bytes, QueuedProposal] = field(default_factory=dict, repr=False)
    resumption_psks: dict[int, bytes] = field(default_factory=dict, repr=False)
    """``resumption_psk`` of this and recent epochs, by epoch, for resumption PSKs (§8.6)."""
    reinit: ReInit | None = None
    """Set when the commit that began this epoch covered a ReInit: the group is closed to
    sending and waits for the Welcome of its successor (§11.2, §12.4.2)."""

    @classmethod
    def start(
        cls,
        suite: CipherSuite,
        context: GroupContext,
        tree: RatchetTree,
        keys: TreePrivateKeys,
        secrets: EpochSecrets,
        interim_transcript_hash: bytes,
        previous: EpochState | None = None,
    ) -> EpochState:
        """Begin an epoch: build its secret tree and forget the encryption secret.

        ``previous`` hands on the resumption PSKs of recent epochs."""
        secret_tree = SecretTree(suite, secrets.encryption_secret, tree.leaf_count)
        kept = dict(previous.resumption_psks) if previous is not None else {}
        kept[context.epoch] = secrets.resumption_psk
        for old in sorted(kept)[:-RESUMPTION_PSKS_KEPT]:
            del kept[old]
        return cls(
            suite=suite,
            context=context,
            tree=tree,
            keys=keys,
            secrets=dataclasses.replace(secrets, encryption_secret=b""),
            secret_tree=secret_tree,
            interim_transcript_hash=interim_transcript_hash,
            resumption_psks=kept,
        )

    @property
    def own_leaf(self) -> int:
        return self.keys.leaf_index

    @property
    def epoch(self) -> int:
        return self.context.epoch

    @property
    def group_id(self) -> bytes:
        return self.context.group_id

    @property
    def extensions(self) -> tuple[Extension, ...]:
        return self.context.extensions

    def is_member(self, leaf_index: int) -> bool:
        return (
            0 <= leaf_index < self.tree.leaf_count and self.tree.leaf_node(leaf_index) is not None
        )

    def resumption_psk(self, psk_id: PreSharedKeyID) -> bytes | None:
        """This group's ``resumption_psk`` of the epoch ``psk_id`` names, if still kept."""
        if not isinstance(psk_id, ResumptionPSKID) or psk_id.psk_group_id != self.group_id:
            return None
        return self.resumption_psks.get(psk_id.psk_epoch)

    def signature_key_of(self, sender: Sender) -> bytes:
        """The key a sender signs with: a member's leaf, or an entry of external_senders."""
        index = sender.index
        if index is None:
            raise UnknownSenderError("a sender without an index has no key in the group")
        if sender.sender_type == SenderType.MEMBER:
            if not self.is_member(index):
                raise UnknownSenderError(f"leaf {index} is not a member")
            return self.tree.member(index).signature_key
        senders = find_extension(self.extensions, ExternalSenders)
        if senders is None or not 0 <= index < len(senders.senders):
            raise UnknownSenderError(f"external sender {index} is not in external_senders")
        return senders.senders[index].signature_key


def create_group(
    suite: CipherSuite,
    group_id: bytes,
    signing_key: SigningKey,
    credential: Credential,
    capabilities: Capabilities,
    lifetime: Lifetime,
    extensions: tuple[Extension, ...],
    rng: RandomSource,
) -> EpochState:
    """§11: a one-member group at epoch 0, with a random epoch secret.

    The creator's leaf is a key-package leaf (signed, with a lifetime), as its first
    commit replaces it with a commit leaf anyway.
    """
    created = create_key_package(
        suite, signing_key, credential, capabilities, lifetime, (), (), rng
    )
    leaf: LeafNode = created.key_package.leaf_node
    tree = RatchetTree([leaf])
    context = GroupContext(
        cipher_suite=suite.suite_id,
        group_id=group_id,
        epoch=0,
        tree_hash=tree_hash(suite, tree),
        confirmed_transcript_hash=b"",
        extensions=extensions,
    )
    secrets = EpochSecrets.from_epoch_secret(suite, rng.random_bytes(suite.hash_size))
    tag = confirmation_tag(suite, secrets.confirmation_key, b"")
    interim = interim_transcript_hash(
        suite, b"", InterimTranscriptHashInput(confirmation_tag=tag).to_bytes()
    )
    keys = TreePrivateKeys.for_leaf(0, created.encryption_private_key)
    return EpochState.start(suite, context, tree, keys, secrets, interim)
