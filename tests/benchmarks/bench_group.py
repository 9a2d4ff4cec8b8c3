"""What group operations cost as a group grows: 10, 100, 1,000 and 10,000 devices.

Run on demand, not by pytest::

    python -m tests.benchmarks.bench_group [--sizes 10,100,1000,10000] [--out FILE.md]
        [--repeat 5] [--suite 1] [--profile STEP]

For each size, one member (leaf 0) commits and another (leaf 1, its sibling, the receiver
that derives the most path keys) processes: one Add (and the added device joins from the
Welcome), one Remove, one empty commit (an update of the committer's path keys), and one
application message. The two first go through one real epoch change (an empty commit
both merge), as members who have been processing the group's commits; the measured commits
are then staged and never merged, so every repetition starts from the same epoch. A Remove
is also measured on members whose state was just rebuilt, as after loading it from
storage, before any tree hash is known.

The table gives the median of ``--repeat`` runs in milliseconds, the ratios
cost(1,000)/cost(100) and cost(10,000)/cost(1,000), and the cost at 1,000 in units of a
baseline measured in the same run (one HPKE EncryptWithLabel + DecryptWithLabel), so that
results from different machines can be compared. Then the sizes of the messages, and which
of the targets hold.

Building the groups. Adding 10,000 members one commit at a time, each commit processed by
every member so far, is quadratic work; so the group is built as it stands after a long run
of commits — the state a case group is in most of its life — directly from the engine's own
pieces. Every member has a signing key and a signed commit leaf; every parent node with
members on both sides holds a fresh HPKE key, and each is vouched for by the child below it
on its left (as if every member had committed once, from the last leaf to the first), so
the tree passes the engine's full check
(:func:`~protocol.mls.tree_validation.verify_ratchet_tree`, which every measured join
runs). The builder computes the tree hashes itself and the engine's ``tree_hash`` must
agree. The two measuring members get an :class:`~protocol.mls.group_state.EpochState` with
the private keys of their direct paths (the tree invariant of RFC 9420 §4.2) and the same
epoch secrets.

The one shape this does not cover is a group that has just added many members in one
commit: its tree is mostly blank, and its first commits encrypt to every member, O(n) HPKE
operations by the protocol's design (RFC 9420 §7.6), until members' own commits fill the
tree.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import io
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from crypto.hpke import HpkePrivateKey
from crypto.labels import (
    decrypt_with_label,
    encrypt_with_label,
    sign_with_label,
    verify_with_label,
)
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite, cipher_suite
from protocol.codec import Struct, Writer
from protocol.mls.constants import LeafNodeSource, NodeType
from protocol.mls.credentials import BasicCredential
from protocol.mls.events import ApplicationMessage
from protocol.mls.framing import InterimTranscriptHashInput
from protocol.mls.group import Group, PendingCommit, Processed
from protocol.mls.group_context import GroupContext
from protocol.mls.group_state import EpochState
from protocol.mls.key_schedule import EpochSecrets
from protocol.mls.leaf_node import LeafNode
from protocol.mls.parent_hash import parent_hash
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.transcript import confirmation_tag, interim_transcript_hash
from protocol.mls.tree_hash import tree_hash
from protocol.mls.tree_keys import TreePrivateKeys
from protocol.mls.tree_math import direct_path, left, level, right, root
from protocol.mls.tree_nodes import Node, ParentNode
from tests.helpers import DeterministicRandom
from tests.protocol.mls.group_devices import NOW, Device, capabilities

T = TypeVar("T")

GROUP_ID = b"case 2026-bench"
DEFAULT_SIZES = (10, 100, 1_000, 10_000)
APPLICATION_PAYLOAD = b"n" * 1024
COMMITTER = 0
RECEIVER = 1

STEPS: dict[str, str] = {
    "create": "create a 1-member group",
    "add_commit": "add: commit one Add (with its Welcome)",
    "add_process": "add: process the commit",
    "join": "add: join from the Welcome",
    "remove_commit": "remove: commit one Remove",
    "remove_process": "remove: process the commit",
    "remove_commit_loaded": "remove: commit, state just loaded (no tree hashes cached)",
    "remove_process_loaded": "remove: process, state just loaded (no tree hashes cached)",
    "update_commit": "update: empty commit (new path keys)",
    "update_process": "update: process the commit",
    "protect": "application: protect 1 KiB",
    "unprotect": "application: process 1 KiB",
}

MESSAGES: dict[str, str] = {
    "add_commit": "add commit",
    "welcome": "Welcome (carries the ratchet tree)",
    "remove_commit": "remove commit",
    "update_commit": "update commit (empty, with path)",
    "application": "application message (1 KiB)",
}


# --- a group as a long run of commits leaves it ------------------------------------------


@dataclass(eq=False)
class LongLivedGroup:
    """A ratchet tree of ``size`` members with every parent set, and what members hold."""

    suite: CipherSuite
    size: int
    rng: DeterministicRandom
    nodes: list[Node | None] = field(default_factory=list)
    signing_keys: dict[int, SigningKey] = field(default_factory=dict)
    """Leaf index → the member's signing key."""
    private_keys: dict[int, HpkePrivateKey] = field(default_factory=dict)
    """Node index → the HPKE private key of that node."""
    root_hash: bytes = b""

    @classmethod
    def build(cls, suite: CipherSuite, size: int) -> LongLivedGroup:
        group = cls(suite, size, DeterministicRandom(f"bench group of {size}"))
        leaf_count = 1
        while leaf_count < size:
            leaf_count *= 2
        group.nodes = [None] * (2 * leaf_count - 1)
        group.root_hash = group._build(root(leaf_count), b"")
        return group

    def _has_members(self, node: int) -> bool:
        """Members fill leaves 0..size-1, so a subtree has one if its leftmost leaf does."""
        k = level(node)
        leftmost_leaf = (node >> k << k) // 2
        return leftmost_leaf < self.size

    def _build(self, node: int, parent_hash_field: bytes) -> bytes:
        """Fill the subtree under ``node``, whose own parent_hash field is given; return its
        tree hash (RFC 9420 §7.8)."""
        if level(node) == 0:
            return self._leaf(node, parent_hash_field)
        low, high = left(node), right(node)
        if not self._has_members(high):
            # No member on the right: the node is on nobody's filtered direct path, so it
            # stays blank and the chain from above passes through it.
            low_hash = self._build(low, parent_hash_field)
            return _parent_tree_hash(self.suite, None, low_hash, self._build(high, b""))
        private_key, public_key = self.suite.kem.generate_key_pair(self.rng)
        self.private_keys[node] = private_key
        parent = ParentNode(encryption_key=public_key, parent_hash=parent_hash_field)
        self.nodes[node] = parent
        # The right child was last set by a commit from its leftmost leaf, before this
        # node's key was: its parent_hash field names an earlier version of this node.
        high_hash = self._build(high, self.rng.random_bytes(self.suite.hash_size))
        # The left child was set by the same commit as this node and vouches for it.
        vouch = parent_hash(self.suite, public_key, parent_hash_field, high_hash)
        low_hash = self._build(low, vouch)
        return _parent_tree_hash(self.suite, parent, low_hash, high_hash)

    def _leaf(self, node: int, parent_hash_field: bytes) -> bytes:
        leaf_index = node // 2
        w = Writer()
        w.uint8(NodeType.LEAF)
        w.uint32(leaf_index)
        if leaf_index >= self.size:
            w.optional(None, Struct.write)
            return self.suite.hash(w.getvalue())
        suite = self.suite
        signing_key = suite.signature.generate(self.rng)
        private_key, public_key = suite.kem.generate_key_pair(self.rng)
        leaf = LeafNode(
            encryption_key=public_key,
            signature_key=signing_key.public_key,
            credential=BasicCredential(identity=f"device {leaf_index}".encode()),
            capabilities=capabilities(suite),
            leaf_node_source=LeafNodeSource.COMMIT,
            parent_hash=parent_hash_field,
        )
        signature = sign_with_label(
            suite, signing_key, "LeafNodeTBS", leaf.tbs(GROUP_ID, leaf_index)
        )
        leaf = dataclasses.replace(leaf, signature=signature)
        self.nodes[node] = leaf
        self.signing_keys[leaf_index] = signing_key
        self.private_keys[node] = private_key
        w.optional(leaf, Struct.write)
        return suite.hash(w.getvalue())

    def tree(self) -> RatchetTree:
        return RatchetTree(self.nodes)

    def epoch(self) -> tuple[GroupContext, EpochSecrets, bytes]:
        """One epoch every member agrees on: context, secrets, interim transcript hash."""
        suite = self.suite
        epoch_rng = DeterministicRandom(f"bench epoch of {self.size}")
        confirmed = epoch_rng.random_bytes(suite.hash_size)
        context = GroupContext(
            cipher_suite=suite.suite_id,
            group_id=GROUP_ID,
            epoch=self.size,
            tree_hash=self.root_hash,
            confirmed_transcript_hash=confirmed,
        )
        secrets = EpochSecrets.from_epoch_secret(suite, epoch_rng.random_bytes(suite.hash_size))
        tag = confirmation_tag(suite, secrets.confirmation_key, confirmed)
        interim = interim_transcript_hash(
            suite, confirmed, InterimTranscriptHashInput(confirmation_tag=tag).to_bytes()
        )
        return context, secrets, interim

    def member(self, leaf_index: int, *, reread: bool = False) -> Group:
        """The group as the member at ``leaf_index`` holds it: the keys of its direct path.

        With ``reread`` its tree is decoded from the tree's encoding, as from storage: new
        node objects, with nothing derived from them yet (leaf encodings included)."""
        tree = RatchetTree.from_bytes(self.tree().to_bytes()) if reread else self.tree()
        node = 2 * leaf_index
        held = {node: self.private_keys[node]}
        for above in direct_path(node, tree.leaf_count):
            if above in self.private_keys:
                held[above] = self.private_keys[above]
        context, secrets, interim = self.epoch()
        keys = TreePrivateKeys(leaf_index, held)
        state = EpochState.start(self.suite, context, tree, keys, secrets, interim)
        return Group(state, self.signing_keys[leaf_index])


def _parent_tree_hash(
    suite: CipherSuite, node: ParentNode | None, low_hash: bytes, high_hash: bytes
) -> bytes:
    w = Writer()
    w.uint8(NodeType.PARENT)
    w.optional(node, Struct.write)
    w.opaque(low_hash)
    w.opaque(high_hash)
    return suite.hash(w.getvalue())


# --- measuring ---------------------------------------------------------------------------


def timed(call: Callable[[], T]) -> tuple[float, T]:
    """Seconds one call takes, with the garbage collector held off while it runs."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = call()
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed, result


@dataclass(eq=False)
class Baseline:
    """Costs of single primitives, measured in the same run as the steps."""

    hpke_seal_open: float
    sign_verify: float


def measure_baseline(suite: CipherSuite, repeat: int = 200) -> Baseline:
    rng = DeterministicRandom("bench baseline")
    private_key, public_key = suite.kem.generate_key_pair(rng)
    signing_key = suite.signature.generate(rng)
    secret = rng.random_bytes(suite.hash_size)

    def seal_open() -> None:
        sealed = encrypt_with_label(suite, public_key, "bench", b"context", secret, rng)
        decrypt_with_label(
            suite, private_key, "bench", b"context", sealed.kem_output, sealed.ciphertext
        )

    def sign_verify() -> None:
        signature = sign_with_label(suite, signing_key, "bench", secret)
        verify_with_label(suite, signing_key.public_key, "bench", secret, signature)

    return Baseline(
        hpke_seal_open=statistics.median(timed(seal_open)[0] for _ in range(repeat)),
        sign_verify=statistics.median(timed(sign_verify)[0] for _ in range(repeat)),
    )


@dataclass(eq=False)
class SizeRun:
    """Everything measured for one group size."""

    size: int
    build_seconds: float = 0.0
    seconds: dict[str, list[float]] = field(default_factory=dict)
    message_bytes: dict[str, int] = field(default_factory=dict)

    def record(self, step: str, elapsed: float) -> None:
        self.seconds.setdefault(step, []).append(elapsed)

    def median(self, step: str) -> float:
        return statistics.median(self.seconds[step])


def run_size(suite: CipherSuite, size: int, repeat: int, profile: str | None = None) -> SizeRun:
    """Measure every step of :data:`STEPS` ``repeat`` times on a group of ``size``."""
    if size < 3:
        raise ValueError("a group needs a committer, a receiver and a member to remove")
    run = SizeRun(size)
    start = time.perf_counter()
    built = LongLivedGroup.build(suite, size)
    if tree_hash(suite, built.tree()) != built.root_hash:
        raise AssertionError("the builder's tree hash is not the engine's")
    run.build_seconds = time.perf_counter() - start
    for rep in range(repeat):
        measure_just_loaded(run, built, DeterministicRandom(f"bench loaded {size}/{rep}"))
    bench = GroupBench(suite, run, built.member(COMMITTER), built.member(RECEIVER))
    bench.warm_up()
    for rep in range(repeat):
        bench.repetition(rep)
    if profile is not None:
        profile_step(
            suite, profile, size, bench.committer, bench.receiver, bench.removed, bench.rng
        )
    return run


def measure_just_loaded(run: SizeRun, built: LongLivedGroup, rng: DeterministicRandom) -> None:
    """A Remove committed and processed by members whose state was just built, as after
    loading it from storage: the tree is read from its encoding and its tree hashes are
    not known yet, so the first commit hashes the whole tree once."""
    committer = built.member(COMMITTER, reread=True)
    receiver = built.member(RECEIVER, reread=True)
    elapsed, pending = timed(lambda: committer.commit(rng, NOW, remove=(run.size // 2,)))
    run.record("remove_commit_loaded", elapsed)
    elapsed, processed = timed(lambda: receiver.process(pending.message, NOW))
    run.record("remove_process_loaded", elapsed)
    _check_agreement(pending, processed)


@dataclass(eq=False)
class GroupBench:
    """One committer and one receiver of a built group, and the steps they are timed on."""

    suite: CipherSuite
    run: SizeRun
    committer: Group
    receiver: Group
    rng: DeterministicRandom = field(init=False)
    removed: int = field(init=False)

    def __post_init__(self) -> None:
        self.rng = DeterministicRandom(f"bench commits of {self.run.size}")
        self.removed = self.run.size // 2

    def warm_up(self) -> None:
        """One real epoch change before measuring: an empty commit, merged by both, so the
        two hold the group as members do who have been processing its commits."""
        pending = self.committer.commit(self.rng, NOW)
        processed = self.receiver.process(pending.message, NOW)
        _check_agreement(pending, processed)
        assert processed.staged is not None
        self.receiver.merge(processed.staged)
        self.committer.merge_pending()

    def repetition(self, rep: int) -> None:
        suite, run, committer, receiver, rng = (
            self.suite, self.run, self.committer, self.receiver, self.rng,
        )  # fmt: skip
        creator = Device(suite, f"creator {run.size}/{rep}")
        run.record("create", timed(lambda: creator.create_group(GROUP_ID))[0])

        joiner = Device(suite, f"joiner {run.size}/{rep}")
        package = joiner.key_package()
        elapsed, pending = timed(lambda: committer.commit(rng, NOW, add=(package,)))
        committer.discard_pending()
        run.record("add_commit", elapsed)
        welcome = pending.welcome
        assert welcome is not None
        run.message_bytes["add_commit"] = len(pending.message)
        run.message_bytes["welcome"] = len(welcome)
        elapsed, processed = timed(lambda: receiver.process(pending.message, NOW))
        run.record("add_process", elapsed)
        elapsed, joined = timed(lambda: joiner.join(welcome, package))
        run.record("join", elapsed)
        _check_agreement(pending, processed, joined.state)

        self.commit_and_process("remove", (self.removed,))
        self.commit_and_process("update", ())

        elapsed, message = timed(lambda: committer.protect(APPLICATION_PAYLOAD, rng))
        run.record("protect", elapsed)
        run.message_bytes["application"] = len(message)
        elapsed, received = timed(lambda: receiver.process(message, NOW))
        run.record("unprotect", elapsed)
        assert received.events == (ApplicationMessage(COMMITTER, APPLICATION_PAYLOAD),)

    def commit_and_process(self, step: str, remove: tuple[int, ...]) -> None:
        committer, run = self.committer, self.run
        elapsed, pending = timed(lambda: committer.commit(self.rng, NOW, remove=remove))
        committer.discard_pending()
        run.record(f"{step}_commit", elapsed)
        run.message_bytes[f"{step}_commit"] = len(pending.message)
        elapsed, processed = timed(lambda: self.receiver.process(pending.message, NOW))
        run.record(f"{step}_process", elapsed)
        _check_agreement(pending, processed)


def _check_agreement(pending: PendingCommit, processed: Processed, *joined: EpochState) -> None:
    """The receiver (and a joiner) reach the committer's new epoch."""
    ours = pending.created.staged.state
    theirs = processed.staged.state if processed.staged is not None else None
    assert ours is not None and theirs is not None
    for state in (theirs, *joined):
        assert state.secrets.epoch_authenticator == ours.secrets.epoch_authenticator


def profile_step(
    suite: CipherSuite,
    step: str,
    size: int,
    committer: Group,
    receiver: Group,
    removed: int,
    rng: DeterministicRandom,
) -> None:
    """Run one step once more under cProfile and print where its time goes (stderr)."""
    joiner = Device(suite, f"profiled joiner {size}")
    package = joiner.key_package()
    pending = committer.commit(rng, NOW, add=(package,))
    committer.discard_pending()
    welcome = pending.welcome
    assert welcome is not None
    removal = committer.commit(rng, NOW, remove=(removed,))
    committer.discard_pending()
    update = committer.commit(rng, NOW)
    committer.discard_pending()
    calls: dict[str, Callable[[], object]] = {
        "create": lambda: Device(suite, "profiled creator").create_group(GROUP_ID),
        "add_commit": lambda: committer.commit(rng, NOW, add=(Device(suite, "p").key_package(),)),
        "add_process": lambda: receiver.process(pending.message, NOW),
        "join": lambda: joiner.join(welcome, package),
        "remove_commit": lambda: committer.commit(rng, NOW, remove=(removed,)),
        "remove_process": lambda: receiver.process(removal.message, NOW),
        "update_commit": lambda: committer.commit(rng, NOW),
        "update_process": lambda: receiver.process(update.message, NOW),
        "protect": lambda: committer.protect(APPLICATION_PAYLOAD, rng),
    }
    if step not in calls:
        raise SystemExit(f"--profile takes one of {', '.join(calls)}")
    profiler = cProfile.Profile()
    profiler.runcall(calls[step])
    committer.discard_pending()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(30)
    print(f"\n=== profile of {step} at {size:,} devices ===\n{out.getvalue()}", file=sys.stderr)


# --- the report --------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    return f"{ms:.2f}"


def _ratio(runs: dict[int, SizeRun], step: str, high: int, low: int) -> float | None:
    if high not in runs or low not in runs:
        return None
    return runs[high].median(step) / runs[low].median(step)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    holds: bool | None
    """``None`` when the sizes the target is about were not run."""
    issue: bool = True
    """One of the issue's targets; the others apply the same bounds to further steps."""


def _under_ms(runs: dict[int, SizeRun], step: str, bound: float, issue: bool) -> Target:
    ms = runs[1_000].median(step) * 1000 if 1_000 in runs else None
    return Target(
        f"{STEPS[step]} at 1,000 < {bound:.0f} ms",
        "–" if ms is None else f"{ms:.1f} ms",
        None if ms is None else ms < bound,
        issue,
    )


def _ratio_at_most(runs: dict[int, SizeRun], step: str, bound: float, issue: bool) -> Target:
    ratio = _ratio(runs, step, 1_000, 100)
    return Target(
        f"{STEPS[step]}: cost(1,000)/cost(100) ≤ {bound:g}",
        _fmt(ratio),
        None if ratio is None else ratio <= bound,
        issue,
    )


def _smaller_than(runs: dict[int, SizeRun], message: str, bound: int, issue: bool) -> Target:
    size = runs[1_000].message_bytes[message] if 1_000 in runs else None
    return Target(
        f"{MESSAGES[message]} at 1,000 < {bound // 1024} KiB",
        "–" if size is None else f"{size:,} B",
        None if size is None else size < bound,
        issue,
    )


def _width(size: int) -> int:
    """Nodes of the smallest full tree with ``size`` leaves."""
    return 2 * (1 << (size - 1).bit_length()) - 1


def targets(runs: dict[int, SizeRun]) -> list[Target]:
    """The issue's targets, then the same bounds on further steps, each with what was
    measured and whether it holds."""
    out = [
        _under_ms(runs, "remove_commit", 50, issue=True),
        _under_ms(runs, "remove_process", 50, issue=True),
        _ratio_at_most(runs, "remove_commit", 3, issue=True),
        _ratio_at_most(runs, "remove_process", 3, issue=True),
        _smaller_than(runs, "remove_commit", 4096, issue=True),
    ]
    join = runs[10_000].median("join") if 10_000 in runs else None
    out.append(
        Target(
            "join a 10,000-device group from a Welcome < 5 s",
            "–" if join is None else f"{join:.2f} s",
            None if join is None else join < 5,
        )
    )
    # Linear in the tree's width (padded to a power of two) is 16x from 1,000 to 10,000;
    # a quadratic step would be 100x or more.
    bound = 1.5 * _width(10_000) / _width(1_000)
    growths = {step: _ratio(runs, step, 10_000, 1_000) for step in STEPS if step != "create"}
    known = {step: g for step, g in growths.items() if g is not None}
    worst_step, worst = max(known.items(), key=lambda item: item[1], default=("", None))
    out.append(
        Target(
            f"no step grows faster than linearly: cost(10,000)/cost(1,000) ≤ {bound:.0f}",
            "–" if worst is None else f"worst: {STEPS[worst_step]}, {worst:.1f}",
            None if worst is None else worst <= bound,
        )
    )
    for step in ("add_commit", "add_process", "update_commit", "update_process"):
        out.append(_ratio_at_most(runs, step, 3, issue=False))
    for step in ("remove_commit_loaded", "remove_process_loaded"):
        out.append(_under_ms(runs, step, 50, issue=False))
        out.append(_ratio_at_most(runs, step, 3, issue=False))
    for message in ("update_commit", "add_commit"):
        out.append(_smaller_than(runs, message, 4096, issue=False))
    return out


NOTES = """Notes. Commits are sent as PrivateMessages, padded. The add commit's cost includes its
Welcome, which carries the whole ratchet tree (RFC 9420 §12.4.3.3): writing it, and a
joiner's reading and checking it (every leaf's signature and keys, the tree and parent
hashes), are linear in the group's size by design. A member keeps the tree hashes of its
tree between commits; the "state just loaded" rows are the first commit after the state
was rebuilt without them (as from storage), which hashes the whole tree once.
"""


def report(suite: CipherSuite, runs: dict[int, SizeRun], baseline: Baseline, repeat: int) -> str:
    sizes = sorted(runs)
    lines = [
        "# Group engine benchmark",
        "",
        f"Suite {suite.name}; Python {platform.python_version()} on {platform.machine()}; "
        f"median of {repeat} runs; times in ms. Baseline B (same run): one HPKE "
        f"EncryptWithLabel + DecryptWithLabel = {baseline.hpke_seal_open * 1000:.3f} ms; "
        f"one SignWithLabel + VerifyWithLabel = {baseline.sign_verify * 1000:.3f} ms.",
        "Group build (not measured below): "
        + ", ".join(f"{n:,} devices {runs[n].build_seconds:.1f} s" for n in sizes)
        + ".",
        "",
    ]
    header = ["step", *(f"{n:,}" for n in sizes), "1,000/100", "10,000/1,000", "at 1,000 in B"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for step, label in STEPS.items():
        row = [label, *(_ms(runs[n].median(step)) for n in sizes)]
        row.append(_fmt(_ratio(runs, step, 1_000, 100)))
        row.append(_fmt(_ratio(runs, step, 10_000, 1_000)))
        in_b = runs[1_000].median(step) / baseline.hpke_seal_open if 1_000 in runs else None
        row.append(_fmt(in_b, 1))
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Message sizes in bytes (PrivateMessage commits, padded):", ""]
    header = ["message", *(f"{n:,}" for n in sizes)]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for message, label in MESSAGES.items():
        lines.append(
            "| "
            + " | ".join([label, *(f"{runs[n].message_bytes[message]:,}" for n in sizes)])
            + " |"
        )
    lines += [
        "",
        "Targets (the issue's, then the same bounds on further steps):",
        "",
        "| target | measured | holds |",
        "|---|---|---|",
    ]
    for target in targets(runs):
        verdict = {True: "yes", False: "**no**", None: "not run"}[target.holds]
        name = target.name if target.issue else f"(further) {target.name}"
        lines.append(f"| {name} | {target.measured} | {verdict} |")
    lines += ["", NOTES.replace("\n", " ").strip()]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        default=",".join(str(n) for n in DEFAULT_SIZES),
        help="comma-separated group sizes (default: %(default)s)",
    )
    parser.add_argument("--out", help="also write the Markdown report to this file")
    parser.add_argument("--repeat", type=int, default=5, help="runs per step (default: 5)")
    parser.add_argument("--suite", type=int, default=1, help="cipher suite id (default: 1)")
    parser.add_argument(
        "--profile", metavar="STEP", help=f"also profile one step: {', '.join(STEPS)}"
    )
    args = parser.parse_args(argv)
    suite = cipher_suite(args.suite)
    sizes = sorted({int(n.replace("_", "")) for n in args.sizes.split(",")})
    baseline = measure_baseline(suite)
    runs: dict[int, SizeRun] = {}
    for size in sizes:
        print(f"measuring {size:,} devices…", file=sys.stderr, flush=True)
        runs[size] = run_size(suite, size, args.repeat, args.profile)
    text = report(suite, runs, baseline, args.repeat)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(text)


if __name__ == "__main__":
    main()
