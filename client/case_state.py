"""What a device keeps about one case, stored as the sealed ``groups.state`` of the local
store (:mod:`client.store`): the MLS group, the history keys, the envelopes still waiting
for one, and the :class:`DeliveryLedger` that makes withheld, replayed and late items
visible (DESIGN §2, §8; ATTACKS B1–B5, C2–C3). TLS presentation language, decoded strictly::

    struct {
        uint16 version;                      /* 2 (1 is read: no ledger, no adder) */
        opaque mls_state<V>;                 /* Group.to_bytes() */
        uint64 own_counter;                  /* content items this device wrote in the case */
        uint8 history_policy;                /* 0 unknown yet, else HistoryPolicy */
        uint8 removed;                       /* 1 once a commit removed this device */
        RingEntry history_keys<V>;           /* every epoch key known here, ascending */
        PendingEnvelope waiting<V>;          /* envelopes of epochs whose key is not here */
        optional<opaque adder[16]>;          /* version 2: who added this device (its rings
                                                are the ones whose keys are taken) */
        DeliveryLedger ledger;               /* version 2 */
    } CaseState;

    struct { uint64 seq; opaque envelope<V>; } PendingEnvelope;

The history keys are kept so that a member can hand them on (``full`` policy) and read
envelopes of earlier epochs from the relay's log. They are secrets: the store seals this
whole record under the storage key.

The ledger (sans-I/O: the member feeds it what it verified, and asks it what is missing)::

    struct { uint64 first; uint64 last; uint64 first_epoch; uint64 last_epoch; } Run;
    struct {
        opaque author[16];                   /* device id */
        Run runs<V>;                         /* counters seen, as ascending runs */
        uint64 high_seq;                     /* relay seq of the highest counter seen */
        uint64 claimed; uint64 claimed_epoch;  /* the author's own count, from its rings */
    } AuthorLedger;
    struct { uint64 first; uint64 last; } SeqRange;
    struct { opaque author[16]; uint64 first; uint64 last; } ReportedGap;
    struct {
        uint8 floor_known;                   /* 0: counters before the first seen are unknown */
        AuthorLedger authors<V>;
        SeqRange skipped<V>;                 /* relay seqs never delivered */
        SeqRange later_epoch<V>;             /* seqs of an epoch this device never reached */
        optional<SeqRange> withheld;         /* announced by the relay, not delivered */
        SeqRange epoch_starts<V>;            /* (epoch, first seq seen in it) */
        EpochDigest own_commits<V>;          /* our accepted commits, not yet seen in the log */
        ReportedGap reported<V>;
    } DeliveryLedger;
    struct { uint64 epoch; opaque digest<V>; } EpochDigest;

**Counters.** Every content item carries its author's running count in the case (signed
inside the envelope). Counters are tracked per author as runs; a counter seen twice is a
replay, one lower than a counter seen at an earlier relay position is a reordering, and a
hole between runs is a gap. A history ring carries its author's count so far without
using one up, so a truncated tail shows once the author sends a ring.

**Gaps that are not withheld.** A hole is reported only when every epoch it can lie in
is readable here: a device that joined a ``from_join`` case, or was away between a removal
and a re-add, cannot read the items of the epochs it missed, and that is no gap.

**Epoch order.** The relay takes a message only at the group's current epoch, so in its
log epochs never decrease. Each epoch's first position is learnt from what this device
verified (a commit it merged, an item it opened, its own commit found in the log); an item
of epoch *e* placed after a later epoch began is *late* — what a removed device, holding
its last epoch's key, would post through a colluding relay (C2).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Self

from protocol.case_items import HistoryPolicy
from protocol.codec import Reader, Struct, Writer
from protocol.directory import ID_SIZE
from protocol.errors import DecodeError

CASE_STATE_VERSION = 2
_FIRST_VERSION = 1


class GapKind(StrEnum):
    """What is missing: relay positions, or an author's items."""

    SEQUENCE = "sequence"  # relay sequence numbers skipped
    LATER_EPOCH = "later_epoch"  # messages of an epoch this device never reached
    WITHHELD_TAIL = "withheld_tail"  # the relay announced messages it did not deliver
    AUTHOR = "author"  # an author's counters missing


@dataclass(frozen=True, slots=True, kw_only=True)
class Gap:
    """Something the relay (or the network) kept from this device, as the user is shown it:
    relay sequence numbers ``first..last``, or, for :attr:`GapKind.AUTHOR`, the counters
    ``first..last`` of ``author``'s items."""

    kind: GapKind
    first: int
    last: int
    author: bytes | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.first <= self.last:
            raise ValueError("a gap is a non-empty range")
        if (self.author is not None) != (self.kind == GapKind.AUTHOR):
            raise ValueError("only an author gap names an author")

    @property
    def count(self) -> int:
        return self.last - self.first + 1


class Arrival(Enum):
    """How an item's counter fits what its author sent before."""

    NEW = "new"
    REPLAY = "replay"  # this author's counter was seen already
    REORDERED = "reordered"  # a lower counter than one seen earlier in the relay's order
    INVALID = "invalid"  # content counters start at 1


@dataclass(slots=True)
class _Run:
    first: int
    last: int
    first_epoch: int
    last_epoch: int


@dataclass(slots=True)
class _Author:
    runs: list[_Run] = field(default_factory=list)
    high_seq: int = 0
    claimed: int = 0
    claimed_epoch: int = 0

    @property
    def high(self) -> int:
        return self.runs[-1].last if self.runs else 0


def _add_range(ranges: list[tuple[int, int]], first: int, last: int) -> None:
    """Insert ``first..last`` into sorted, disjoint ranges, merging neighbours."""
    merged = [*ranges, (first, last)]
    merged.sort()
    out: list[tuple[int, int]] = []
    for start, end in merged:
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    ranges[:] = out


@dataclass(slots=True, repr=False)
class DeliveryLedger:
    """What this device was delivered of one case: see the module docstring."""

    floor_known: bool = True
    authors: dict[bytes, _Author] = field(default_factory=dict)
    skipped: list[tuple[int, int]] = field(default_factory=list)
    later_epoch: list[tuple[int, int]] = field(default_factory=list)
    withheld: tuple[int, int] | None = None
    epoch_starts: dict[int, int] = field(default_factory=dict)
    own_commits: dict[int, bytes] = field(default_factory=dict)
    reported: set[tuple[bytes, int, int]] = field(default_factory=set)

    def __repr__(self) -> str:
        return f"DeliveryLedger(authors={len(self.authors)}, epochs={len(self.epoch_starts)})"

    # --- relay positions --------------------------------------------------------------

    def skip(self, first: int, last: int) -> None:
        """Relay sequence numbers ``first..last`` were never delivered."""
        _add_range(self.skipped, first, last)

    def beyond_epoch(self, seq: int) -> None:
        """The message at ``seq`` is of an epoch this device has not reached: it is lost."""
        _add_range(self.later_epoch, seq, seq)

    def announce(self, delivered: int, announced: int) -> None:
        """The relay said its log ends at ``announced``; this device got up to ``delivered``."""
        self.withheld = (delivered + 1, announced) if announced > delivered else None

    # --- epoch order ------------------------------------------------------------------

    def epoch_seen(self, epoch: int, seq: int) -> None:
        """Verified evidence that ``epoch`` was running at relay position ``seq``."""
        known = self.epoch_starts.get(epoch)
        if known is None or seq < known:
            self.epoch_starts[epoch] = seq

    def late(self, epoch: int, seq: int) -> bool:
        """Whether a message of ``epoch`` at ``seq`` comes after a later epoch had begun."""
        return any(e > epoch and start < seq for e, start in self.epoch_starts.items())

    def own_commit(self, epoch: int, message: bytes) -> None:
        """Our commit leaving ``epoch`` was accepted: expect exactly it in the log."""
        self.own_commits[epoch] = hashlib.sha256(message).digest()

    def match_own_commit(self, epoch: int, seq: int, message: bytes) -> bool | None:
        """``None`` if we made no commit in ``epoch`` (or found it already); ``True`` if
        ``message`` is it (the next epoch began at ``seq``); ``False`` if the log holds
        another commit for an epoch the relay told us ours had closed — a fork."""
        digest = self.own_commits.get(epoch)
        if digest is None:
            return None
        if hashlib.sha256(message).digest() != digest:
            return False
        del self.own_commits[epoch]
        self.epoch_seen(epoch + 1, seq)
        return True

    # --- author counters --------------------------------------------------------------

    def receive(self, author: bytes, counter: int, epoch: int, seq: int) -> Arrival:
        """Note a verified content item; how it fits its author's earlier ones."""
        if counter < 1:
            return Arrival.INVALID
        record = self.authors.setdefault(author, _Author())
        runs = record.runs
        if any(run.first <= counter <= run.last for run in runs):
            return Arrival.REPLAY
        arrival = (
            Arrival.REORDERED if counter < record.high and seq > record.high_seq else Arrival.NEW
        )
        if counter > record.high:
            record.high_seq = seq
        runs.append(_Run(counter, counter, epoch, epoch))
        runs.sort(key=lambda run: run.first)
        merged: list[_Run] = []
        for run in runs:
            if merged and run.first == merged[-1].last + 1:
                merged[-1].last = run.last
                merged[-1].last_epoch = run.last_epoch
            else:
                merged.append(run)
        record.runs = merged
        return arrival

    def claim(self, author: bytes, counter: int, epoch: int) -> None:
        """A ring of ``author`` says it had written ``counter`` content items by ``epoch``."""
        record = self.authors.setdefault(author, _Author())
        if counter > record.claimed:
            record.claimed, record.claimed_epoch = counter, epoch

    def author_gaps(self, readable: Callable[[int], bool]) -> list[Gap]:
        """Every author's missing counters that lie in epochs this device can read."""

        def all_readable(first: int, last: int) -> bool:
            return all(readable(e) for e in range(first, last + 1))

        gaps: list[Gap] = []
        for author, record in sorted(self.authors.items()):
            holes: list[tuple[int, int, int, int]] = []  # counters, then epochs to read
            runs = record.runs
            if runs and runs[0].first > 1 and self.floor_known:
                holes.append((1, runs[0].first - 1, 0, runs[0].first_epoch))
            holes.extend(
                (before.last + 1, after.first - 1, before.last_epoch, after.first_epoch)
                for before, after in itertools.pairwise(runs)
            )
            if record.claimed > record.high and (runs or self.floor_known):
                start_epoch = runs[-1].last_epoch if runs else 0
                holes.append((record.high + 1, record.claimed, start_epoch, record.claimed_epoch))
            gaps.extend(
                Gap(kind=GapKind.AUTHOR, first=first, last=last, author=author)
                for first, last, from_epoch, to_epoch in holes
                if all_readable(from_epoch, to_epoch)
            )
        return gaps

    def unreported(self, readable: Callable[[int], bool]) -> list[Gap]:
        """Author gaps not reported before; they are marked reported."""
        fresh = []
        for gap in self.author_gaps(readable):
            assert gap.author is not None
            key = (gap.author, gap.first, gap.last)
            if key not in self.reported:
                self.reported.add(key)
                fresh.append(gap)
        return fresh

    def gaps(self, readable: Callable[[int], bool]) -> list[Gap]:
        """Everything missing, relay positions first."""
        found = [Gap(kind=GapKind.SEQUENCE, first=a, last=b) for a, b in self.skipped]
        found += [Gap(kind=GapKind.LATER_EPOCH, first=a, last=b) for a, b in self.later_epoch]
        if self.withheld is not None:
            first, last = self.withheld
            found.append(Gap(kind=GapKind.WITHHELD_TAIL, first=first, last=last))
        return found + self.author_gaps(readable)

    # --- encoding ---------------------------------------------------------------------

    def encode(self, w: Writer) -> None:
        w.uint8(1 if self.floor_known else 0)

        def run(w: Writer, r: _Run) -> None:
            for value in (r.first, r.last, r.first_epoch, r.last_epoch):
                w.uint64(value)

        def author(w: Writer, item: tuple[bytes, _Author]) -> None:
            w.fixed(item[0])
            w.vector(item[1].runs, run)
            w.uint64(item[1].high_seq)
            w.uint64(item[1].claimed)
            w.uint64(item[1].claimed_epoch)

        def pair(w: Writer, item: tuple[int, int]) -> None:
            w.uint64(item[0])
            w.uint64(item[1])

        def digest(w: Writer, item: tuple[int, bytes]) -> None:
            w.uint64(item[0])
            w.opaque(item[1])

        def reported(w: Writer, item: tuple[bytes, int, int]) -> None:
            w.fixed(item[0])
            w.uint64(item[1])
            w.uint64(item[2])

        w.vector(sorted(self.authors.items()), author)
        w.vector(self.skipped, pair)
        w.vector(self.later_epoch, pair)
        w.optional(self.withheld, pair)
        w.vector(sorted(self.epoch_starts.items()), pair)
        w.vector(sorted(self.own_commits.items()), digest)
        w.vector(sorted(self.reported), reported)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        floor_known = r.uint8()
        if floor_known > 1:
            raise DecodeError("floor_known is a flag")

        def run(r: Reader) -> _Run:
            first, last, first_epoch, last_epoch = r.uint64(), r.uint64(), r.uint64(), r.uint64()
            if first > last or first_epoch > last_epoch:
                raise DecodeError("a counter run goes backwards")
            return _Run(first, last, first_epoch, last_epoch)

        def author(r: Reader) -> tuple[bytes, _Author]:
            device = r.fixed(ID_SIZE)
            runs = r.vector(run)
            return device, _Author(runs, r.uint64(), r.uint64(), r.uint64())

        def pair(r: Reader) -> tuple[int, int]:
            return r.uint64(), r.uint64()

        authors = r.vector(author)
        skipped, later = r.vector(pair), r.vector(pair)
        withheld = r.optional(pair)
        starts = r.vector(pair)
        own = r.vector(lambda r: (r.uint64(), r.opaque()))
        reported = r.vector(lambda r: (r.fixed(ID_SIZE), r.uint64(), r.uint64()))
        return cls(
            floor_known=bool(floor_known),
            authors=dict(authors),
            skipped=skipped,
            later_epoch=later,
            withheld=withheld,
            epoch_starts=dict(starts),
            own_commits=dict(own),
            reported=set(reported),
        )


@dataclass(slots=True, kw_only=True, repr=False)
class CaseState(Struct):
    mls_state: bytes
    own_counter: int = 0
    history_policy: HistoryPolicy | None = None
    removed: bool = False
    history_keys: dict[int, bytes] = field(default_factory=dict)
    waiting: list[tuple[int, bytes]] = field(default_factory=list)
    adder: bytes | None = None
    ledger: DeliveryLedger = field(default_factory=DeliveryLedger)

    def __repr__(self) -> str:
        return f"CaseState(epochs={sorted(self.history_keys)}, <redacted>)"

    def readable(self, epoch: int) -> bool:
        """Whether this device holds the history key of ``epoch``."""
        return epoch in self.history_keys

    def encode(self, w: Writer) -> None:
        w.uint16(CASE_STATE_VERSION)
        w.opaque(self.mls_state)
        w.uint64(self.own_counter)
        w.uint8(0 if self.history_policy is None else self.history_policy)
        w.uint8(1 if self.removed else 0)

        def key(w: Writer, item: tuple[int, bytes]) -> None:
            w.uint64(item[0])
            w.opaque(item[1])

        w.vector(sorted(self.history_keys.items()), key)
        w.vector(self.waiting, key)
        w.optional(self.adder, Writer.fixed)
        self.ledger.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        version = r.uint16()
        if version not in (_FIRST_VERSION, CASE_STATE_VERSION):
            raise DecodeError(f"unknown case state version {version}")
        mls_state = r.opaque()
        counter = r.uint64()
        policy = r.uint8()
        removed = r.uint8()
        if removed > 1:
            raise DecodeError("removed is a flag")
        keys = r.vector(lambda r: (r.uint64(), r.opaque()))
        waiting = r.vector(lambda r: (r.uint64(), r.opaque()))
        if version == _FIRST_VERSION:
            # Written before counters were checked: what came before is not known here.
            adder, ledger = None, DeliveryLedger(floor_known=False)
        else:
            adder = r.optional(lambda r: r.fixed(ID_SIZE))
            ledger = DeliveryLedger.decode(r)
        try:
            history_policy = None if policy == 0 else HistoryPolicy(policy)
        except ValueError:
            raise DecodeError(f"unknown history policy {policy}") from None
        return cls(
            mls_state=mls_state,
            own_counter=counter,
            history_policy=history_policy,
            removed=bool(removed),
            history_keys=dict(keys),
            waiting=list(waiting),
            adder=adder,
            ledger=ledger,
        )
