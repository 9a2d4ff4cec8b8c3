"""RFC 9420 §8, §9, §12: one member's whole group state as bytes, for the client to store.

The group engine keeps its :class:`~protocol.mls.group_state.EpochState` in memory; a
client stores it after every call that changes it and loads it after a restart. The
encoding uses the TLS presentation language of :mod:`protocol.codec`, strict in both
directions, and starts with a format version::

    struct {
        uint16 format_version = 1;
        CipherSuite cipher_suite;
        GroupContext context;                   // §8.1
        optional<Node> ratchet_tree<V>;         // §12.4.3.3, trailing blanks left out
        TreeKeyState private_keys;              // our leaf and direct-path HPKE keys
        KeptEpochSecrets secrets;               // Table 4, without encryption_secret
        opaque interim_transcript_hash<V>;      // §8.2
        KeptSecretTree secret_tree;             // §9: what is left of encryption_secret
        CachedProposal proposals<V>;            // received this epoch, in arrival order
        ResumptionPsk resumption_psks<V>;       // §8.6, by increasing epoch
        optional<ReInit> reinit;                // §11.2: a ReInit closed the group
    } GroupState;

    struct { opaque sender_data_secret<V>; opaque exporter_secret<V>;
             opaque external_secret<V>; opaque confirmation_key<V>;
             opaque membership_key<V>; opaque resumption_psk<V>;
             opaque epoch_authenticator<V>; opaque init_secret<V>; } KeptEpochSecrets;
    struct { uint32 n_leaves; NodeSecret node_secrets<V>; LeafRatchets leaves<V>; }
                                                                      KeptSecretTree;
    struct { uint32 node; opaque secret<V>; } NodeSecret;
    struct { uint32 leaf; RatchetState handshake; RatchetState application; } LeafRatchets;
    struct { opaque secret<V>; uint32 next_generation; KeptKey skipped<V>; } RatchetState;
    struct { uint32 generation; opaque key<V>; opaque nonce<V>; } KeptKey;
    struct { opaque reference<V>; Sender sender; Proposal proposal; } CachedProposal;
    struct { uint64 epoch; opaque resumption_psk<V>; } ResumptionPsk;

Node secrets, leaves, kept keys and resumption PSKs are listed in strictly increasing
order, so a state has exactly one encoding.

The epoch's ``encryption_secret`` is not written: the state no longer holds it, and the
secret tree keeps only the secrets not yet consumed (§9.2), with each ratchet's next
generation and the keys it kept for skipped ones. A message read before the state was
stored is therefore refused after a restore, as it was before.

**The output is secret.** It holds the epoch's secrets and our private keys; the caller
seals it (the client's local store encrypts it under its storage key) and replaces the
previous copy. A state stored before a ``protect``/``propose``/``commit`` call still holds
the sending keys that call consumed, so store the state after the call and before its
output leaves the device; the random ``reuse_guard`` (§6.3.1) is only a second line.

Decoding fails with :class:`~protocol.errors.DecodeError` on malformed bytes and with a
:class:`~protocol.errors.ValidationError` on a state that does not hold together: an
unknown format version or an unsupported cipher suite, secrets of the wrong length, a tree
that does not hash to the context's tree hash, private keys that are not the tree's
(:class:`~protocol.mls.tree_keys.PrivateKeyMismatchError`), a secret tree of another size
or one that covers a leaf twice or not at all, an interim transcript hash that does not
follow from the confirmed one, our own leaf not being a member. The checks catch a
corrupted or mismatched state; they do not replace the seal against someone who can
write the store.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from itertools import pairwise

from crypto.errors import CryptoError, UnsupportedCipherSuiteError
from crypto.suites import CipherSuite, cipher_suite
from protocol.codec import Reader, Struct, Writer
from protocol.errors import InternalError, UnsupportedError, ValidationError
from protocol.mls.constants import SenderType
from protocol.mls.framing import InterimTranscriptHashInput, Sender
from protocol.mls.group_context import GroupContext
from protocol.mls.group_state import RESUMPTION_PSKS_KEPT, EpochState
from protocol.mls.key_schedule import EpochSecrets, InitSecret
from protocol.mls.proposal_list import QueuedProposal
from protocol.mls.proposals import Proposal, ReInit
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.secret_tree import RatchetKey, RatchetState, SecretTree, SecretTreeState
from protocol.mls.transcript import confirmation_tag, interim_transcript_hash
from protocol.mls.tree_hash import check_tree_hash
from protocol.mls.tree_keys import TreeKeyState, TreePrivateKeys
from protocol.mls.tree_math import direct_path, leaf_to_node

FORMAT_VERSION = 1
"""The version of the encoding written by :func:`encode_state`."""


class InvalidGroupStateError(ValidationError):
    """A stored group state decodes, but its parts do not hold together."""

    code = "invalid_group_state"


# --- encoding ---------------------------------------------------------------------------------


def encode_state(state: EpochState) -> bytes:
    """The whole of ``state`` as a ``GroupState``; secret, to be sealed by the caller."""
    w = Writer()
    w.uint16(FORMAT_VERSION)
    w.uint16(state.suite.suite_id)
    state.context.encode(w)
    state.tree.encode(w)
    state.keys.to_state().encode(w)
    _write_secrets(w, state.secrets)
    w.opaque(state.interim_transcript_hash)
    _write_secret_tree(w, state.secret_tree.to_state())
    w.vector(state.proposals.items(), _write_cached_proposal)
    w.vector(sorted(state.resumption_psks.items()), _write_resumption_psk)
    w.optional(state.reinit, Struct.write)
    return w.getvalue()


def _kept_secrets(secrets: EpochSecrets) -> tuple[bytes, ...]:
    return (
        secrets.sender_data_secret,
        secrets.exporter_secret,
        secrets.external_secret,
        secrets.confirmation_key,
        secrets.membership_key,
        secrets.resumption_psk,
        secrets.epoch_authenticator,
        secrets.init_secret.value,
    )


def _write_secrets(w: Writer, secrets: EpochSecrets) -> None:
    for secret in _kept_secrets(secrets):
        w.opaque(secret)


def _write_secret_tree(w: Writer, state: SecretTreeState) -> None:
    if [leaf for leaf, _ in state.handshake] != [leaf for leaf, _ in state.application]:
        raise InternalError("a leaf of the secret tree has only one ratchet")
    w.uint32(state.n_leaves)
    w.vector(state.node_secrets, _write_node_secret)
    w.vector(
        [
            (leaf, hs, app)
            for (leaf, hs), (_, app) in zip(state.handshake, state.application, strict=True)
        ],
        _write_leaf_ratchets,
    )


def _write_node_secret(w: Writer, item: tuple[int, bytes]) -> None:
    w.uint32(item[0])
    w.opaque(item[1])


def _write_leaf_ratchets(w: Writer, item: tuple[int, RatchetState, RatchetState]) -> None:
    leaf, handshake, application = item
    w.uint32(leaf)
    _write_ratchet(w, handshake)
    _write_ratchet(w, application)


def _write_ratchet(w: Writer, ratchet: RatchetState) -> None:
    w.opaque(ratchet.secret)
    w.uint32(ratchet.next_generation)
    w.vector(ratchet.skipped, _write_kept_key)


def _write_kept_key(w: Writer, key: RatchetKey) -> None:
    w.uint32(key.generation)
    w.opaque(key.key)
    w.opaque(key.nonce)


def _write_cached_proposal(w: Writer, item: tuple[bytes, QueuedProposal]) -> None:
    reference, queued = item
    if queued.reference != reference:
        raise InternalError("a cached proposal is filed under another reference")
    w.opaque(reference)
    queued.sender.encode(w)
    queued.proposal.encode(w)


def _write_resumption_psk(w: Writer, item: tuple[int, bytes]) -> None:
    w.uint64(item[0])
    w.opaque(item[1])


# --- decoding ---------------------------------------------------------------------------------


def decode_state(data: bytes) -> EpochState:
    """The state :func:`encode_state` wrote; every part is checked against the others."""
    r = Reader(bytes(data))
    version = r.uint16()
    if version != FORMAT_VERSION:
        raise UnsupportedError(f"group state format {version} is not supported")
    suite = _suite(r.uint16())
    context = GroupContext.decode(r)
    tree = RatchetTree.decode(r)
    key_state = TreeKeyState.decode(r)
    secrets = _read_secrets(r, suite)
    interim = r.opaque()
    secret_tree_state = _read_secret_tree(r, suite)
    proposals = r.vector(_read_cached_proposal)
    resumption_psks = r.vector(_read_resumption_psk)
    reinit = r.optional(ReInit.decode)
    r.finish()

    if context.cipher_suite != suite.suite_id:
        raise InvalidGroupStateError("the group context names another cipher suite")
    check_tree_hash(suite, tree, context.tree_hash)
    _check_interim(suite, context, secrets, interim)
    keys = _private_keys(suite, key_state, tree)
    secret_tree = _secret_tree(suite, secret_tree_state, tree)
    state = EpochState(
        suite=suite,
        context=context,
        tree=tree,
        keys=keys,
        secrets=secrets,
        secret_tree=secret_tree,
        interim_transcript_hash=interim,
        proposals=_proposal_cache(suite, proposals),
        resumption_psks=_resumption_psks(suite, context, secrets, resumption_psks),
        reinit=reinit,
    )
    for queued in state.proposals.values():
        _check_proposer(state, queued.sender)
    return state


def _suite(suite_id: int) -> CipherSuite:
    try:
        return cipher_suite(suite_id)
    except UnsupportedCipherSuiteError as exc:
        raise UnsupportedError(f"cipher suite 0x{suite_id:04x} is not supported") from exc


def _read_secret(r: Reader, size: int) -> bytes:
    secret = r.opaque()
    if len(secret) != size:
        raise InvalidGroupStateError(f"a stored secret is {len(secret)} bytes, not {size}")
    return secret


def _read_secrets(r: Reader, suite: CipherSuite) -> EpochSecrets:
    def secret() -> bytes:
        return _read_secret(r, suite.hash_size)

    # Keyword arguments are evaluated left to right: the order of _kept_secrets.
    return EpochSecrets(
        suite=suite,
        sender_data_secret=secret(),
        encryption_secret=b"",
        exporter_secret=secret(),
        external_secret=secret(),
        confirmation_key=secret(),
        membership_key=secret(),
        resumption_psk=secret(),
        epoch_authenticator=secret(),
        init_secret=InitSecret(secret()),
    )


def _read_secret_tree(r: Reader, suite: CipherSuite) -> SecretTreeState:
    def node_secret(item: Reader) -> tuple[int, bytes]:
        return item.uint32(), _read_secret(item, suite.hash_size)

    def leaf_ratchets(item: Reader) -> tuple[int, RatchetState, RatchetState]:
        return item.uint32(), _read_ratchet(item, suite), _read_ratchet(item, suite)

    n_leaves = r.uint32()
    node_secrets = r.vector(node_secret)
    leaves = r.vector(leaf_ratchets)
    _check_increasing([node for node, _ in node_secrets], "secret tree nodes")
    _check_increasing([leaf for leaf, _, _ in leaves], "secret tree leaves")
    return SecretTreeState(
        n_leaves=n_leaves,
        node_secrets=tuple(node_secrets),
        handshake=tuple((leaf, handshake) for leaf, handshake, _ in leaves),
        application=tuple((leaf, application) for leaf, _, application in leaves),
    )


def _read_ratchet(r: Reader, suite: CipherSuite) -> RatchetState:
    def kept_key(item: Reader) -> RatchetKey:
        return RatchetKey(
            item.uint32(),
            _read_secret(item, suite.aead.key_size),
            _read_secret(item, suite.aead.nonce_size),
        )

    secret = _read_secret(r, suite.hash_size)
    next_generation = r.uint32()
    skipped = r.vector(kept_key)
    generations = [key.generation for key in skipped]
    _check_increasing(generations, "kept ratchet keys")
    if generations and generations[-1] >= next_generation:
        raise InvalidGroupStateError("a ratchet keeps a key it has not reached")
    return RatchetState(secret=secret, next_generation=next_generation, skipped=tuple(skipped))


def _read_cached_proposal(r: Reader) -> QueuedProposal:
    reference = r.opaque()
    sender = Sender.decode(r)
    return QueuedProposal(Proposal.decode(r), sender, reference)


def _read_resumption_psk(r: Reader) -> tuple[int, bytes]:
    return r.uint64(), r.opaque()


# --- consistency ------------------------------------------------------------------------------


def _check_increasing(values: Sequence[int], what: str) -> None:
    if any(a >= b for a, b in pairwise(values)):
        raise InvalidGroupStateError(f"{what} are not in strictly increasing order")


def _check_interim(
    suite: CipherSuite, context: GroupContext, secrets: EpochSecrets, interim: bytes
) -> None:
    """§8.2: the interim hash absorbs the confirmation tag of the epoch's confirmed hash."""
    confirmed = context.confirmed_transcript_hash
    tag = confirmation_tag(suite, secrets.confirmation_key, confirmed)
    expected = interim_transcript_hash(
        suite, confirmed, InterimTranscriptHashInput(confirmation_tag=tag).to_bytes()
    )
    if not hmac.compare_digest(expected, interim):
        raise InvalidGroupStateError("the interim transcript hash does not fit the epoch")


def _private_keys(suite: CipherSuite, state: TreeKeyState, tree: RatchetTree) -> TreePrivateKeys:
    own = state.leaf_index
    if not (own < tree.leaf_count and tree.leaf_node(own) is not None):
        raise InvalidGroupStateError(f"our leaf {own} is not a member of the tree")
    _check_increasing([entry.node for entry in state.keys], "private key nodes")
    try:
        keys = TreePrivateKeys.from_state(suite, state)
    except (ValueError, CryptoError) as exc:
        raise InvalidGroupStateError("the stored private tree keys do not load") from exc
    keys.check_against(tree)
    return keys


def _secret_tree(suite: CipherSuite, state: SecretTreeState, tree: RatchetTree) -> SecretTree:
    """The secret tree, after checking that each leaf's keys come from exactly one place:
    its started ratchets, or the one secret left on its path to the root."""
    n_leaves = state.n_leaves
    if n_leaves != tree.leaf_count:
        raise InvalidGroupStateError(
            f"the secret tree has {n_leaves} leaves, the ratchet tree {tree.leaf_count}"
        )
    try:
        secret_tree = SecretTree.from_state(suite, state)
    except InternalError as exc:
        raise InvalidGroupStateError("the stored secret tree does not load") from exc
    held = {node for node, _ in state.node_secrets}
    started = {leaf for leaf, _ in state.handshake}
    for leaf in range(n_leaves):
        node = leaf_to_node(leaf)
        sources = sum(x in held for x in (node, *direct_path(node, n_leaves)))
        if sources + (leaf in started) != 1:
            raise InvalidGroupStateError(f"the secret tree covers leaf {leaf} {sources} times")
    return secret_tree


def _proposal_cache(
    suite: CipherSuite, proposals: Sequence[QueuedProposal]
) -> dict[bytes, QueuedProposal]:
    cache: dict[bytes, QueuedProposal] = {}
    for queued in proposals:
        reference = queued.reference
        if reference is None or len(reference) != suite.hash_size or reference in cache:
            raise InvalidGroupStateError("a cached proposal has a bad or repeated reference")
        cache[reference] = queued
    return cache


def _check_proposer(state: EpochState, sender: Sender) -> None:
    """A cached proposal comes from a member, an external sender, or a would-be member."""
    if sender.sender_type == SenderType.NEW_MEMBER_COMMIT:
        raise InvalidGroupStateError("a cached proposal claims to come from a commit")
    if sender.index is not None:
        state.signature_key_of(sender)


def _resumption_psks(
    suite: CipherSuite,
    context: GroupContext,
    secrets: EpochSecrets,
    items: Sequence[tuple[int, bytes]],
) -> dict[int, bytes]:
    """Recent epochs' PSKs, ending with this epoch's own, as :meth:`EpochState.start` keeps."""
    epochs = [epoch for epoch, _ in items]
    _check_increasing(epochs, "resumption PSK epochs")
    if not 0 < len(items) <= RESUMPTION_PSKS_KEPT or epochs[-1] != context.epoch:
        raise InvalidGroupStateError("the resumption PSKs do not end at this epoch")
    if any(len(psk) != suite.hash_size for _, psk in items):
        raise InvalidGroupStateError("a resumption PSK has the wrong length")
    if not hmac.compare_digest(items[-1][1], secrets.resumption_psk):
        raise InvalidGroupStateError("this epoch's resumption PSK is not the key schedule's")
    return dict(items)
