"""RFC 9420 §9: the secret tree and each sender's hash ratchets; §6.3.2: sender-data keys.

Every PrivateMessage is encrypted under a key used exactly once. The keys come from a tree
of secrets shaped like the ratchet tree, rooted at the epoch's ``encryption_secret``::

    node secret ──ExpandWithLabel("tree", "left"/"right")──► child secrets
    leaf secret ──ExpandWithLabel("handshake" | "application", "")──► ratchet secret [0]
    ratchet secret [j] ─┬─ DeriveTreeSecret("key",   j, Nk) = key [j]
                        ├─ DeriveTreeSecret("nonce", j, Nn) = nonce [j]
                        └─ DeriveTreeSecret("secret", j, Nh) = ratchet secret [j+1]

Forward secrecy comes from deleting what has been consumed (§9.2): a parent's secret is
dropped as soon as both children are derived, a leaf's secret once its two ratchets exist,
a ratchet secret once the next one exists, and a key/nonce pair the moment it is handed
out. Asking for that generation again raises :class:`~protocol.errors.ReplayError`.
(Python cannot wipe ``bytes``; "deleted" means no reference is kept.)

Messages may arrive out of order, so a receiver that jumps ahead keeps the keys of the
generations it skipped, up to :attr:`RatchetPolicy.max_skipped_keys` per ratchet (the
oldest go first), and refuses to ratchet more than
:attr:`RatchetPolicy.max_forward_distance` generations in one step
(:class:`RatchetWindowError`), so a message cannot make us hash a million times.

The tree is sans-I/O and its state is plain data (:meth:`SecretTree.to_state`), so the
caller decides where and when it is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from crypto.labels import derive_tree_secret, expand_with_label
from crypto.suites import CipherSuite
from protocol.errors import InternalError, ReplayError, UnknownSenderError
from protocol.mls.tree_math import (
    check_leaf_count,
    direct_path,
    leaf_to_node,
    left,
    node_width,
    right,
)

T = TypeVar("T")

MAX_GENERATION = (1 << 32) - 1
"""Generations are ``uint32`` in SenderData (§6.3.2)."""


class RatchetWindowError(ReplayError):
    """A generation too far ahead of the ratchet, or a ratchet with no generations left."""

    code = "ratchet_window"


class RatchetKind(Enum):
    """The two ratchets of every leaf (§9): handshake for proposals and commits."""

    HANDSHAKE = "handshake"
    APPLICATION = "application"


@dataclass(frozen=True, slots=True, kw_only=True)
class RatchetPolicy:
    """How far out of order a receiver tolerates messages, per ratchet."""

    max_forward_distance: int = 1000
    """Generations a ratchet may skip ahead in one step."""
    max_skipped_keys: int = 64
    """Keys of skipped generations kept for late messages; older ones are dropped."""

    def __post_init__(self) -> None:
        if self.max_forward_distance < 0 or self.max_skipped_keys < 0:
            raise ValueError("ratchet policy limits must be non-negative")


@dataclass(frozen=True, slots=True)
class RatchetKey:
    """The AEAD key and nonce of one generation of one ratchet (used once, then dropped)."""

    generation: int
    key: bytes = field(repr=False)
    nonce: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class SenderDataKey:
    """The AEAD key and nonce that protect one message's SenderData (§6.3.2)."""

    key: bytes = field(repr=False)
    nonce: bytes = field(repr=False)


def sender_data_key(
    suite: CipherSuite, sender_data_secret: bytes, ciphertext: bytes
) -> SenderDataKey:
    """Key and nonce from the first ``Nh`` bytes of the content ciphertext (all if shorter)."""
    sample = ciphertext[: suite.hash_size]
    return SenderDataKey(
        expand_with_label(suite, sender_data_secret, "key", sample, suite.aead.key_size),
        expand_with_label(suite, sender_data_secret, "nonce", sample, suite.aead.nonce_size),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RatchetState:
    """A ratchet as plain data: the secret of ``next_generation`` and the kept keys."""

    secret: bytes = field(repr=False)
    next_generation: int
    skipped: tuple[RatchetKey, ...] = ()


class HashRatchet:
    """One sender's handshake or application ratchet (§9.1).

    ``next_key`` is the sending side (the next unused generation); ``key_for`` is the
    receiving side (any generation inside the policy's window, each at most once).
    """

    __slots__ = ("_next", "_policy", "_secret", "_skipped", "_suite")

    def __init__(
        self,
        suite: CipherSuite,
        secret: bytes,
        *,
        policy: RatchetPolicy,
        next_generation: int = 0,
        skipped: Iterable[RatchetKey] = (),
    ) -> None:
        if not 0 <= next_generation <= MAX_GENERATION + 1:
            raise InternalError(f"ratchet generation {next_generation} out of range")
        self._suite = suite
        self._policy = policy
        self._secret: bytes | None = secret
        self._next = next_generation
        self._skipped: dict[int, RatchetKey] = {}
        for kept in skipped:
            if kept.generation >= next_generation or kept.generation in self._skipped:
                raise InternalError("ratchet state keeps an impossible generation")
            self._skipped[kept.generation] = kept

    def __repr__(self) -> str:
        return f"HashRatchet(next_generation={self._next}, kept={sorted(self._skipped)})"

    @property
    def next_generation(self) -> int:
        return self._next

    def next_key(self) -> RatchetKey:
        """Consume and return the next generation's key, for sending."""
        return self._key(*self._advance())

    def key_for(self, generation: int) -> RatchetKey:
        """Consume and return the key of ``generation``, for receiving.

        Raises :class:`~protocol.errors.ReplayError` if that generation was used already
        or is no longer kept, and :class:`RatchetWindowError` if it lies further ahead
        than the policy allows.
        """
        if generation < self._next:
            kept = self._skipped.pop(generation, None)
            if kept is None:
                raise ReplayError(f"generation {generation} was used or is no longer kept")
            return kept
        if generation > MAX_GENERATION:
            raise RatchetWindowError(f"generation {generation} is not a uint32")
        distance = generation - self._next
        if distance > self._policy.max_forward_distance:
            raise RatchetWindowError(
                f"generation {generation} is {distance} ahead of the ratchet "
                f"(at most {self._policy.max_forward_distance})"
            )
        first_kept = generation - self._policy.max_skipped_keys
        while self._next < generation:
            skipped_generation, secret = self._advance()
            if skipped_generation >= first_kept:
                self._keep(self._key(skipped_generation, secret))
        return self._key(*self._advance())

    def open_with(self, generation: int, use: Callable[[RatchetKey], T]) -> T:
        """Apply ``use`` to the key of ``generation``; the ratchet moves only if it succeeds.

        A message whose sender data decrypts but whose content does not (tampered on the
        way, or forged by an insider) must neither burn the key of the genuine message that
        may still arrive nor push the ratchet forward past keys still waiting to be used.
        """
        saved = (self._secret, self._next, dict(self._skipped))
        key = self.key_for(generation)
        try:
            return use(key)
        except BaseException:
            self._secret, self._next, self._skipped = saved
            raise

    def _keep(self, key: RatchetKey) -> None:
        self._skipped[key.generation] = key
        while len(self._skipped) > self._policy.max_skipped_keys:
            del self._skipped[min(self._skipped)]

    def _advance(self) -> tuple[int, bytes]:
        """Hand out the current generation and its secret, keeping only the next secret."""
        secret = self._secret
        generation = self._next
        if secret is None or generation > MAX_GENERATION:
            raise RatchetWindowError("the ratchet has no generations left")
        if generation == MAX_GENERATION:
            self._secret = None
        else:
            self._secret = derive_tree_secret(
                self._suite, secret, "secret", generation, self._suite.hash_size
            )
        self._next = generation + 1
        return generation, secret

    def _key(self, generation: int, secret: bytes) -> RatchetKey:
        suite = self._suite
        return RatchetKey(
            generation,
            derive_tree_secret(suite, secret, "key", generation, suite.aead.key_size),
            derive_tree_secret(suite, secret, "nonce", generation, suite.aead.nonce_size),
        )

    def to_state(self) -> RatchetState:
        if self._secret is None:
            raise InternalError("an exhausted ratchet has no state to keep")
        kept = tuple(self._skipped[g] for g in sorted(self._skipped))
        return RatchetState(secret=self._secret, next_generation=self._next, skipped=kept)

    @classmethod
    def from_state(
        cls, suite: CipherSuite, state: RatchetState, *, policy: RatchetPolicy
    ) -> HashRatchet:
        return cls(
            suite,
            state.secret,
            policy=policy,
            next_generation=state.next_generation,
            skipped=state.skipped,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretTreeState:
    """A secret tree as plain data: undeleted node secrets and the leaves' ratchets."""

    n_leaves: int
    node_secrets: tuple[tuple[int, bytes], ...] = field(repr=False)
    handshake: tuple[tuple[int, RatchetState], ...] = ()
    application: tuple[tuple[int, RatchetState], ...] = ()


class SecretTree:
    """The secret tree of one epoch over ``n_leaves`` leaves (§9), derived lazily.

    A leaf's ratchets are created the first time a key of that leaf is asked for, which
    consumes the node secrets on its path from the root (§9.2).
    """

    __slots__ = ("_application", "_handshake", "_n_leaves", "_nodes", "_policy", "_suite")

    def __init__(
        self,
        suite: CipherSuite,
        encryption_secret: bytes,
        n_leaves: int,
        *,
        policy: RatchetPolicy | None = None,
    ) -> None:
        check_leaf_count(n_leaves)
        self._suite = suite
        self._policy = policy or RatchetPolicy()
        self._n_leaves = n_leaves
        self._nodes: dict[int, bytes] = {n_leaves - 1: encryption_secret}
        self._handshake: dict[int, HashRatchet] = {}
        self._application: dict[int, HashRatchet] = {}

    def __repr__(self) -> str:
        return f"SecretTree(n_leaves={self._n_leaves}, leaves_started={sorted(self._handshake)})"

    @property
    def n_leaves(self) -> int:
        return self._n_leaves

    def next_key(self, leaf_index: int, kind: RatchetKind) -> RatchetKey:
        """The next unused key of our own leaf's ratchet, for encrypting a message."""
        return self._ratchet(leaf_index, kind).next_key()

    def key_for(self, leaf_index: int, kind: RatchetKind, generation: int) -> RatchetKey:
        """The key a sender used at ``generation``, for decrypting; each is given out once."""
        return self._ratchet(leaf_index, kind).key_for(generation)

    def open_with(
        self, leaf_index: int, kind: RatchetKind, generation: int, use: Callable[[RatchetKey], T]
    ) -> T:
        """Decrypt with the key of ``generation``, consuming it only if ``use`` succeeds."""
        return self._ratchet(leaf_index, kind).open_with(generation, use)

    def next_generation(self, leaf_index: int, kind: RatchetKind) -> int:
        return self._ratchet(leaf_index, kind).next_generation

    def _ratchet(self, leaf_index: int, kind: RatchetKind) -> HashRatchet:
        if not 0 <= leaf_index < self._n_leaves:
            raise UnknownSenderError(
                f"leaf {leaf_index} is outside a tree of {self._n_leaves} leaves"
            )
        if leaf_index not in self._handshake:
            self._start_leaf(leaf_index)
        ratchets = self._handshake if kind is RatchetKind.HANDSHAKE else self._application
        return ratchets[leaf_index]

    def _start_leaf(self, leaf_index: int) -> None:
        suite = self._suite
        node = leaf_to_node(leaf_index)
        path = [node, *direct_path(node, self._n_leaves)]
        holder = next((i for i, x in enumerate(path) if x in self._nodes), None)
        if holder is None:
            raise InternalError(f"no secret left above leaf {leaf_index}")
        for parent_node in reversed(path[1 : holder + 1]):
            secret = self._nodes.pop(parent_node)
            self._nodes[left(parent_node)] = expand_with_label(
                suite, secret, "tree", b"left", suite.hash_size
            )
            self._nodes[right(parent_node)] = expand_with_label(
                suite, secret, "tree", b"right", suite.hash_size
            )
        leaf_secret = self._nodes.pop(node)
        for kind, ratchets in (
            (RatchetKind.HANDSHAKE, self._handshake),
            (RatchetKind.APPLICATION, self._application),
        ):
            base = expand_with_label(suite, leaf_secret, kind.value, b"", suite.hash_size)
            ratchets[leaf_index] = HashRatchet(suite, base, policy=self._policy)

    def to_state(self) -> SecretTreeState:
        return SecretTreeState(
            n_leaves=self._n_leaves,
            node_secrets=tuple(sorted(self._nodes.items())),
            handshake=tuple((i, r.to_state()) for i, r in sorted(self._handshake.items())),
            application=tuple((i, r.to_state()) for i, r in sorted(self._application.items())),
        )

    @classmethod
    def from_state(
        cls,
        suite: CipherSuite,
        state: SecretTreeState,
        *,
        policy: RatchetPolicy | None = None,
    ) -> SecretTree:
        """Rebuild a tree from :meth:`to_state`; inconsistent state is refused."""
        tree = cls(suite, b"", state.n_leaves, policy=policy)
        tree._nodes = dict(state.node_secrets)
        width = node_width(state.n_leaves)
        if len(tree._nodes) != len(state.node_secrets) or any(
            not 0 <= x < width for x in tree._nodes
        ):
            raise InternalError("secret tree state names nodes outside the tree")
        tree._handshake = tree._ratchets_from(state.handshake)
        tree._application = tree._ratchets_from(state.application)
        if tree._handshake.keys() != tree._application.keys():
            raise InternalError("secret tree state has a leaf with only one ratchet")
        return tree

    def _ratchets_from(self, items: tuple[tuple[int, RatchetState], ...]) -> dict[int, HashRatchet]:
        ratchets: dict[int, HashRatchet] = {}
        for leaf_index, ratchet_state in items:
            if not 0 <= leaf_index < self._n_leaves or leaf_index in ratchets:
                raise InternalError(f"secret tree state has a bad leaf {leaf_index}")
            ratchets[leaf_index] = HashRatchet.from_state(
                self._suite, ratchet_state, policy=self._policy
            )
        return ratchets
