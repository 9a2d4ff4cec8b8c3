"""The case record and its delivery ledger (client/case_state.py), without a relay: how
counters, relay positions and epochs turn into replays, reorderings, late items and gaps,
and that the record round-trips (and a version 1 record still opens)."""

from __future__ import annotations

import pytest

from client.case_state import Arrival, CaseState, DeliveryLedger, Gap, GapKind
from protocol.case_items import HistoryPolicy
from protocol.codec import Writer
from protocol.errors import DecodeError

A, B = b"a" * 16, b"b" * 16


def everything(_: int) -> bool:
    return True


def test_counters_in_order_leave_no_gap() -> None:
    ledger = DeliveryLedger()
    assert [ledger.receive(A, c, 0, c) for c in (1, 2, 3)] == [Arrival.NEW] * 3
    assert ledger.author_gaps(everything) == []


def test_a_counter_seen_again_is_a_replay_and_zero_is_invalid() -> None:
    ledger = DeliveryLedger()
    ledger.receive(A, 1, 0, 1)
    ledger.receive(A, 2, 0, 2)
    assert ledger.receive(A, 1, 0, 9) is Arrival.REPLAY
    assert ledger.receive(A, 0, 0, 10) is Arrival.INVALID
    assert ledger.receive(B, 1, 0, 11) is Arrival.NEW  # counters are per author


def test_a_lower_counter_later_in_the_log_is_a_reordering_earlier_is_history() -> None:
    ledger = DeliveryLedger()
    ledger.receive(A, 3, 1, 10)
    assert ledger.receive(A, 2, 1, 11) is Arrival.REORDERED
    assert ledger.receive(A, 1, 0, 4) is Arrival.NEW  # opened late, placed earlier: fine


def test_holes_are_gaps_once_and_fill_when_the_items_arrive() -> None:
    ledger = DeliveryLedger()
    for counter in (1, 2, 5, 8):
        ledger.receive(A, counter, 0, counter)
    gaps = [Gap(kind=GapKind.AUTHOR, first=3, last=4, author=A)]
    gaps.append(Gap(kind=GapKind.AUTHOR, first=6, last=7, author=A))
    assert ledger.author_gaps(everything) == gaps
    assert ledger.unreported(everything) == gaps
    assert ledger.unreported(everything) == []
    for counter in (3, 4, 6, 7):
        ledger.receive(A, counter, 0, 20 + counter)
    assert ledger.author_gaps(everything) == []


def test_a_ring_count_shows_a_truncated_tail() -> None:
    ledger = DeliveryLedger()
    ledger.receive(A, 1, 0, 1)
    ledger.claim(A, 3, 1)
    assert ledger.author_gaps(everything) == [Gap(kind=GapKind.AUTHOR, first=2, last=3, author=A)]
    ledger.claim(A, 2, 1)  # an older count changes nothing
    assert ledger.author_gaps(everything)[0].last == 3


def test_holes_in_epochs_this_device_cannot_read_are_no_gaps() -> None:
    ledger = DeliveryLedger()
    ledger.receive(A, 5, 4, 40)  # a from_join member: epochs 0..3 are not readable here
    ledger.receive(A, 9, 7, 70)  # away between epochs 5 and 6
    readable = {4, 7}.__contains__
    assert ledger.author_gaps(readable) == []
    assert [g.first for g in ledger.author_gaps(everything)] == [1, 6]


def test_without_a_known_floor_earlier_counters_are_not_gaps() -> None:
    ledger = DeliveryLedger(floor_known=False)
    ledger.receive(A, 7, 0, 1)
    assert ledger.author_gaps(everything) == []


def test_an_item_after_a_later_epoch_began_is_late() -> None:
    ledger = DeliveryLedger()
    ledger.epoch_seen(1, 5)
    ledger.epoch_seen(2, 9)
    assert not ledger.late(1, 8)
    assert ledger.late(1, 10)
    assert not ledger.late(2, 30)


def test_our_commit_found_in_the_log_starts_the_next_epoch_another_is_a_fork() -> None:
    ledger = DeliveryLedger()
    ledger.own_commit(3, b"our commit")
    assert ledger.match_own_commit(2, 7, b"anything") is None
    assert ledger.match_own_commit(3, 7, b"their commit") is False
    assert ledger.match_own_commit(3, 8, b"our commit") is True
    assert ledger.epoch_starts[4] == 8
    assert ledger.match_own_commit(3, 9, b"our commit") is None


def test_relay_positions_are_listed_as_gaps() -> None:
    ledger = DeliveryLedger()
    ledger.skip(4, 5)
    ledger.skip(6, 6)
    ledger.beyond_epoch(9)
    ledger.announce(10, 12)
    assert ledger.gaps(everything) == [
        Gap(kind=GapKind.SEQUENCE, first=4, last=6),
        Gap(kind=GapKind.LATER_EPOCH, first=9, last=9),
        Gap(kind=GapKind.WITHHELD_TAIL, first=11, last=12),
    ]
    ledger.announce(12, 12)
    assert ledger.withheld is None


def test_a_gap_must_be_a_range_and_only_an_author_gap_names_an_author() -> None:
    with pytest.raises(ValueError):
        Gap(kind=GapKind.SEQUENCE, first=3, last=2)
    with pytest.raises(ValueError):
        Gap(kind=GapKind.SEQUENCE, first=1, last=1, author=A)
    with pytest.raises(ValueError):
        Gap(kind=GapKind.AUTHOR, first=1, last=1)


def test_the_case_record_round_trips_with_its_ledger() -> None:
    ledger = DeliveryLedger()
    ledger.receive(A, 1, 0, 1)
    ledger.receive(A, 3, 1, 4)
    ledger.claim(B, 2, 1)
    ledger.skip(2, 2)
    ledger.beyond_epoch(7)
    ledger.announce(7, 9)
    ledger.epoch_seen(1, 3)
    ledger.own_commit(1, b"commit")
    ledger.unreported(everything)
    state = CaseState(
        mls_state=b"mls",
        own_counter=4,
        history_policy=HistoryPolicy.FULL,
        history_keys={0: b"k0", 1: b"k1"},
        waiting=[(5, b"envelope")],
        adder=B,
        ledger=ledger,
    )
    again = CaseState.from_bytes(state.to_bytes())
    assert again.to_bytes() == state.to_bytes()
    assert again.ledger.gaps(everything) == ledger.gaps(everything)
    assert again.adder == B
    assert "k0" not in repr(again) and "mls" not in repr(again)


def test_a_version_1_record_opens_without_counters_known() -> None:
    w = Writer()
    w.uint16(1)
    w.opaque(b"mls")
    w.uint64(3)
    w.uint8(HistoryPolicy.FROM_JOIN)
    w.uint8(0)

    def key(w: Writer, entry: tuple[int, bytes]) -> None:
        w.uint64(entry[0])
        w.opaque(entry[1])

    w.vector([(0, b"k0")], key)
    w.vector([], key)
    state = CaseState.from_bytes(w.getvalue())
    assert (state.own_counter, state.history_keys, state.adder) == (3, {0: b"k0"}, None)
    assert not state.ledger.floor_known


@pytest.mark.parametrize("version", [0, 3, 0xFFFF])
def test_unknown_versions_do_not_open(version: int) -> None:
    data = CaseState(mls_state=b"mls").to_bytes()
    with pytest.raises(DecodeError):
        CaseState.from_bytes(version.to_bytes(2, "big") + data[2:])


def test_runs_going_backwards_do_not_open() -> None:
    state = CaseState(mls_state=b"m")
    state.ledger.receive(A, 2, 1, 1)
    data = bytearray(state.to_bytes())
    at = data.index(A) + 16 + 1  # the first run, after the vector's length byte
    data[at : at + 8] = (9).to_bytes(8, "big")  # first > last
    with pytest.raises(DecodeError):
        CaseState.from_bytes(bytes(data))
