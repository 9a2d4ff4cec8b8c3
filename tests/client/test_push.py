"""client.push against a real relay on 127.0.0.1 (tiny Argon2id costs): notes arrive by push
without polling, a relay restart is ridden out with capped backoff and nothing is lost or
doubled, the state is observable, and shutdown leaves nothing running. Time and randomness
are injected, so every delay asserted here is exact."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar, cast

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from client.coordinator import (
    Coordinator,
    create_root,
    start_coordinator,
)
from client.demo import PASSPHRASE, enrol_with_approval
from client.member import Member
from client.profile import Profile
from client.push import (
    Backoff,
    ConnectionState,
    PushConnection,
    PushStateError,
    PushStatus,
    SyncingDevice,
    check_transition,
    uniform_unit,
)
from client.random import SystemRandom
from client.relay_api import (
    SUBSCRIBE_BATCH,
    PushedError,
    PushedMessage,
    PushedWelcome,
    PushSocket,
    RelayApi,
    RelayProtocolError,
    parse_push_frame,
)
from client.store import LocalStore
from crypto.random import RandomSource
from protocol.case_items import HistoryPolicy, Note
from server.app import create_app, make_runner
from server.config import Limits, RelayConfig
from server.listener import RelaySite
from tests.client.conftest import TEST_FLOOR, TINY
from tests.helpers import DeterministicRandom
from tests.server.relay_process import free_port

S = ConnectionState
T = TypeVar("T")
WAIT = 10.0  # seconds any single expected event may take before the test fails
NOW = 1000.0


class RestartableRelay:
    """The relay on one fixed port and data directory, stopped and started at will."""

    def __init__(self, data_dir: Path, root_public_key: bytes) -> None:
        self.config = RelayConfig(
            data_dir=data_dir,
            host="127.0.0.1",
            port=free_port(),
            root_public_key=root_public_key,
            limits=dataclasses.replace(Limits(), auth_per_minute=6000),
        )
        self.url = f"http://127.0.0.1:{self.config.port}"
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        runner = make_runner(create_app(self.config))
        await runner.setup()
        site = RelaySite(
            runner, "127.0.0.1", self.config.port, head_timeout=self.config.limits.header_timeout
        )
        await site.start()
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def forget_sessions(self) -> None:
        """Drop every session token, as if each had expired (only while stopped)."""
        assert self._runner is None
        with contextlib.closing(sqlite3.connect(self.config.database_path)) as db, db:
            db.execute("DELETE FROM sessions")


@dataclass
class Platform:
    relay: RestartableRelay
    coordinator: Coordinator
    alice: Member
    bob: Member


def _profile(path: Path) -> Profile:
    return Profile(path, params=TINY, insecure_floor_for_tests=TEST_FLOOR)


@pytest_asyncio.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    profile = _profile(tmp_path / "coordinator")
    root_public = create_root(
        profile, PASSPHRASE, SystemRandom(), params=TINY, insecure_floor_for_tests=TEST_FLOOR
    )
    relay = RestartableRelay(tmp_path / "relay", root_public)
    await relay.start()
    coordinator = await start_coordinator(
        profile, PASSPHRASE, relay.url, "Coordinator", "City", insecure_floor_for_tests=TEST_FLOOR
    )
    members = []
    for name in ("Alice", "Bob"):
        invite = coordinator.invite(name, "Test Agency", "tester")
        members.append(
            await enrol_with_approval(
                coordinator, relay.url, _profile(tmp_path / name), invite.code
            )
        )
    try:
        yield Platform(relay, coordinator, *members)
    finally:
        for device in (*members, coordinator):
            await device.close()
        await relay.stop()


# --- injected time, randomness and observers ---------------------------------------------


class GatedSleep:
    """Records each delay asked for; the first ``free`` return at once, later ones wait
    for :meth:`release`. Never sleeps for real."""

    def __init__(self, free: int = 0) -> None:
        self.delays: list[float] = []
        self._free = free
        self._permits = asyncio.Semaphore(0)

        self._called = asyncio.Event()

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self._called.set()
        if len(self.delays) > self._free:
            await self._permits.acquire()

    def release(self) -> None:
        self._permits.release()

    async def calls(self, count: int) -> list[float]:
        """The delays, once at least ``count`` were asked for."""
        async with asyncio.timeout(WAIT):
            while len(self.delays) < count:
                self._called.clear()
                await self._called.wait()
        return self.delays


class FixedRandom:
    """Every byte the same: 0x00 gives no jitter, 0xff the most."""

    def __init__(self, byte: int) -> None:
        self._byte = byte

    def random_bytes(self, n: int) -> bytes:
        return bytes([self._byte]) * n


class Recorder(Generic[T]):
    """Everything a listener was called with, and a way to wait for what comes next."""

    def __init__(self) -> None:
        self.seen: list[T] = []
        self._changed = asyncio.Event()
        self._read = 0

    def __call__(self, value: T) -> None:
        self.seen.append(value)
        self._changed.set()

    async def next(self, accept: Callable[[T], bool]) -> T:
        """The first recorded value after those already returned that ``accept`` takes."""
        async with asyncio.timeout(WAIT):
            while True:
                for index in range(self._read, len(self.seen)):
                    if accept(self.seen[index]):
                        self._read = index + 1
                        return self.seen[index]
                self._changed.clear()
                await self._changed.wait()

    async def until(self, condition: Callable[[], Awaitable[bool]]) -> None:
        """Wait, one recorded call at a time, until ``condition`` holds."""
        async with asyncio.timeout(WAIT):
            while True:
                count = len(self.seen)
                if await condition():
                    return
                while len(self.seen) == count:
                    self._changed.clear()
                    await self._changed.wait()


def state(wanted: ConnectionState) -> Callable[[PushStatus], bool]:
    return lambda status: status.state == wanted


def _texts(items: list) -> list[str]:  # type: ignore[type-arg]
    return [s.stored.item.text for s in items if isinstance(s.stored.item, Note)]


def has_texts(member: Member, case_id: bytes, expected: list[str]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        if case_id not in await member.case_ids():
            return False
        return _texts(await member.notes(case_id)) == expected

    return check


def push_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("casecircle push")]


async def shared_case(platform: Platform, *notes: str) -> bytes:
    alice = platform.alice
    case_id = await alice.create_case("Title", "Pseudonym", HistoryPolicy.FULL)
    await alice.add_devices(case_id, [platform.bob.device_id])
    for text in notes:
        await alice.post_note(case_id, text)
    return case_id


# --- pure parts ------------------------------------------------------------------------


def test_backoff_grows_by_factor_up_to_the_cap() -> None:
    backoff = Backoff(initial=1.0, factor=2.0, cap=8.0, jitter=0.5)
    assert [backoff.delay(n, 0.0) for n in range(1, 7)] == [1, 2, 4, 8, 8, 8]
    assert backoff.delay(10**6, 0.0) == 8.0  # no overflow, however long the outage
    assert [backoff.delay(n, 0.5) for n in range(1, 5)] == [0.75, 1.5, 3.0, 6.0]
    rng = DeterministicRandom("jitter")
    for failures in range(1, 40):
        ceiling = min(8.0, 2.0 ** (failures - 1))
        assert ceiling / 2 < backoff.delay(failures, uniform_unit(rng)) <= ceiling


@pytest.mark.parametrize(
    "arguments",
    [
        {"initial": 0},
        {"initial": 10, "cap": 5},
        {"factor": 0.5},
        {"jitter": 1.5},
        {"reset_after": -1},
    ],
)
def test_backoff_refuses_nonsense(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**arguments)


@pytest.mark.parametrize(("failures", "unit"), [(0, 0.0), (1, 1.0), (1, -0.1)])
def test_backoff_delay_refuses_bad_inputs(failures: int, unit: float) -> None:
    with pytest.raises(ValueError):
        Backoff().delay(failures, unit)


def test_uniform_unit_spans_zero_to_one_exclusive() -> None:
    assert uniform_unit(FixedRandom(0)) == 0.0
    assert 0.999 < uniform_unit(FixedRandom(0xFF)) < 1.0


def test_illegal_transitions_are_typed_errors() -> None:
    check_transition(S.OFFLINE, S.CONNECTING)
    for old, new in [(S.IDLE, S.CONNECTED), (S.OFFLINE, S.CONNECTED), (S.CLOSED, S.CONNECTING)]:
        with pytest.raises(PushStateError) as raised:
            check_transition(old, new)
        assert raised.value.code == "push_state"
    with pytest.raises(PushStateError):
        PushStatus(state=S.CONNECTED, retry_at=NOW)
    with pytest.raises(PushStateError):
        PushStatus(state=S.OFFLINE)


def test_push_frames_parse_strictly() -> None:
    group = "ab" * 16
    assert parse_push_frame(
        f'{{"type":"message","group":"{group}","seq":3,"message":"AA=="}}'
    ) == PushedMessage(bytes.fromhex(group), 3)
    assert parse_push_frame(
        f'{{"type":"welcome","id":7,"group":"{group}","message":"AA=="}}'
    ) == PushedWelcome(7, bytes.fromhex(group))
    assert parse_push_frame(
        f'{{"type":"error","group":"{group}","error":"not_on_roster"}}'
    ) == PushedError(bytes.fromhex(group), "not_on_roster")
    assert parse_push_frame('{"type":"later"}') is None
    for bad in (
        "not json",
        "[]",
        f'{{"type":"message","group":"{group}","seq":-1,"message":""}}',
        f'{{"type":"message","group":"{group}","seq":true,"message":""}}',
        '{"type":"message","group":"zz","seq":1,"message":""}',
        '{"type":"message","group":"","seq":1,"message":""}',
        f'{{"type":"message","group":"{group}","seq":1}}',
        f'{{"type":"error","group":"{group}"}}',
    ):
        with pytest.raises(RelayProtocolError):
            parse_push_frame(bad)


class SentFrames:
    """Stands in for a WebSocket: keeps what is sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []

    async def send_str(self, text: str) -> None:
        self.sent.append(json.loads(text))


@pytest.mark.asyncio
async def test_subscriptions_are_split_to_fit_the_relays_frames() -> None:
    ws = SentFrames()
    socket = PushSocket(cast(aiohttp.ClientWebSocketResponse, ws))
    cursors = {index.to_bytes(16, "big"): index for index in range(2 * SUBSCRIBE_BATCH + 1)}
    await socket.subscribe(cursors, 5)
    assert [len(cast(dict[str, int], f["groups"])) for f in ws.sent] == [SUBSCRIBE_BATCH] * 2 + [1]
    assert [f.get("inbox") for f in ws.sent] == [5, None, None]
    assert all(len(json.dumps(f)) < 64 * 1024 for f in ws.sent)  # the relay's ws_max_frame
    merged = {k: v for f in ws.sent for k, v in cast(dict[str, int], f["groups"]).items()}
    assert merged == {case.hex(): cursor for case, cursor in cursors.items()}


# --- against the relay -----------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_note_arrives_by_push_without_polling(platform: Platform) -> None:
    alice, bob = platform.alice, platform.bob
    statuses: Recorder[PushStatus] = Recorder()
    synced: Recorder[bytes | None] = Recorder()
    sleep = GatedSleep()
    async with PushConnection(bob, sleep=sleep, on_status=statuses, on_synced=synced) as push:
        await statuses.next(state(S.CONNECTED))
        # Bob is in no case yet: the Welcome is pushed, then the note.
        case_id = await shared_case(platform)
        await synced.until(lambda: _has_case(bob, case_id))
        await alice.post_note(case_id, "pushed to Bob")
        await synced.until(has_texts(bob, case_id, ["pushed to Bob"]))
        assert await push.wait_for(S.CONNECTED) == push.status
    assert sleep.delays == []  # no timer ever ran: nothing was polled or retried
    assert [s.state for s in statuses.seen] == [S.CONNECTING, S.CONNECTED, S.CLOSED]
    assert push.status == PushStatus(state=S.CLOSED)
    assert push_tasks() == []


async def _has_case(member: Member, case_id: bytes) -> bool:
    return case_id in await member.case_ids()


@pytest.mark.asyncio
async def test_relay_restart_is_ridden_out_without_loss_or_duplicates(platform: Platform) -> None:
    alice, bob, relay = platform.alice, platform.bob, platform.relay
    case_id = await shared_case(platform, "before")
    statuses: Recorder[PushStatus] = Recorder()
    synced: Recorder[bytes | None] = Recorder()
    sleep = GatedSleep()
    clock = [NOW]
    push = PushConnection(
        bob,
        backoff=Backoff(initial=1.0, factor=2.0, cap=8.0, reset_after=3600),
        rng=FixedRandom(0),
        sleep=sleep,
        clock=lambda: clock[0],
        on_status=statuses,
        on_synced=synced,
    )
    push.start()
    await statuses.next(state(S.CONNECTED))
    assert _texts(await bob.notes(case_id)) == ["before"]  # the first full sync

    await relay.stop()  # closes every socket with 1001 going away
    relay.forget_sessions()  # and the tokens expire while it is down
    offline = await statuses.next(state(S.OFFLINE))
    assert (offline.failures, offline.retry_at, offline.error) == (1, NOW + 1.0, "push_closed")
    assert push.status == offline
    await bob.post_note(case_id, "written offline")  # the application needs no lock
    assert len(await bob.store.pending_outbox()) == 1

    sleep.release()  # the relay is still down: the next wait is twice as long
    await statuses.next(state(S.CONNECTING))
    offline = await statuses.next(state(S.OFFLINE))
    assert (offline.failures, offline.retry_at, offline.error) == (
        2,
        NOW + 2.0,
        "relay_unavailable",
    )

    await relay.start()
    away = ["away 1", "away 2", "away 3"]
    for text in away:
        await alice.post_note(case_id, text)  # Alice logs in again by herself
    assert await alice.store.pending_outbox() == []
    sleep.release()  # Bob logs in again, catches up, then sends his outbox
    await statuses.next(state(S.CONNECTED))
    expected = ["before", *away, "written offline"]
    await synced.until(has_texts(bob, case_id, expected))
    assert await bob.store.pending_outbox() == []

    await alice.post_note(case_id, "after")  # pushes flow again on the new socket
    await synced.until(has_texts(bob, case_id, [*expected, "after"]))
    seqs = [shown.seq or 0 for shown in await bob.notes(case_id)]
    assert seqs == sorted(set(seqs)) and 0 not in seqs  # each once, in relay order
    await alice.sync()
    assert _texts(await alice.notes(case_id)) == [*expected, "after"]

    clock[0] += 3600  # a connection that lasted reset_after starts the count afresh
    await relay.stop()
    offline = await statuses.next(state(S.OFFLINE))
    assert (offline.failures, offline.retry_at) == (1, clock[0] + 1.0)
    await relay.start()
    sleep.release()
    await statuses.next(state(S.CONNECTED))

    await push.close()
    assert sleep.delays == [1.0, 2.0, 1.0]
    assert [s.state for s in statuses.seen] == [
        S.CONNECTING,
        S.CONNECTED,
        S.OFFLINE,
        S.CONNECTING,
        S.OFFLINE,
        S.CONNECTING,
        S.CONNECTED,
        S.OFFLINE,
        S.CONNECTING,
        S.CONNECTED,
        S.CLOSED,
    ]
    assert push_tasks() == []


@pytest.mark.asyncio
async def test_backoff_is_capped_and_retry_now_cuts_it_short(platform: Platform) -> None:
    await platform.relay.stop()
    statuses: Recorder[PushStatus] = Recorder()
    sleep = GatedSleep(free=6)
    push = PushConnection(
        platform.bob,
        backoff=Backoff(initial=0.5, factor=3.0, cap=5.0, jitter=0.5),
        rng=FixedRandom(0),
        sleep=sleep,
        clock=lambda: NOW,
        on_status=statuses,
    )
    push.start()
    for failures in range(1, 8):
        offline = await statuses.next(state(S.OFFLINE))
        assert offline.failures == failures
        assert offline.error == "relay_unavailable"
    assert await sleep.calls(7) == [0.5, 1.5, 4.5, 5.0, 5.0, 5.0, 5.0]
    assert offline.retry_at == NOW + 5.0
    push.retry_now()  # the seventh wait never ends by itself
    assert (await statuses.next(state(S.OFFLINE))).failures == 8
    await push.close()  # while waiting: the wait is cancelled, nothing else is pending
    assert push.status.state == S.CLOSED
    assert push_tasks() == []


@pytest.mark.asyncio
async def test_jitter_keeps_delays_within_the_ceiling(platform: Platform) -> None:
    await platform.relay.stop()
    statuses: Recorder[PushStatus] = Recorder()
    sleep = GatedSleep(free=4)
    backoff = Backoff(initial=1.0, factor=2.0, cap=4.0, jitter=0.5)
    async with PushConnection(
        platform.bob, backoff=backoff, rng=FixedRandom(0xFF), sleep=sleep, on_status=statuses
    ):
        for _ in range(5):
            await statuses.next(state(S.OFFLINE))
        delays = list(await sleep.calls(5))
    ceilings = [1.0, 2.0, 4.0, 4.0, 4.0]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 <= delay < ceiling / 2 + 1e-9


@pytest.mark.asyncio
async def test_a_revoked_device_stops_instead_of_retrying(platform: Platform) -> None:
    await platform.coordinator.revoke_device(platform.bob.device_id)
    statuses: Recorder[PushStatus] = Recorder()
    sleep = GatedSleep()
    push = PushConnection(platform.bob, sleep=sleep, on_status=statuses)
    push.start()
    closed = await statuses.next(state(S.CLOSED))
    assert closed.error == "device_refused"
    await push.close()
    assert sleep.delays == []
    assert [s.state for s in statuses.seen] == [S.CONNECTING, S.CLOSED]


class HeldMember:
    """Bob, whose ``sync_case`` waits for the test's go-ahead: a Member call in progress."""

    def __init__(self, member: Member) -> None:
        self.member = member
        self.entered = asyncio.Event()
        self.go = asyncio.Event()
        self.finished = 0

    @property
    def api(self) -> RelayApi:
        return self.member.api

    @property
    def store(self) -> LocalStore:
        return self.member.store

    @property
    def rng(self) -> RandomSource:
        return self.member.rng

    async def sync(self) -> None:
        await self.member.sync()

    async def process_inbox(self) -> list[bytes]:
        return await self.member.process_inbox()

    async def sync_case(self, case_id: bytes) -> None:
        self.entered.set()
        await self.go.wait()
        await self.member.sync_case(case_id)
        self.finished += 1


@pytest.mark.asyncio
async def test_close_lets_a_running_call_finish(platform: Platform) -> None:
    case_id = await shared_case(platform)
    held = HeldMember(platform.bob)
    push = PushConnection(held)
    push.start()
    await push.wait_for(S.CONNECTED)
    await platform.alice.post_note(case_id, "in flight")
    async with asyncio.timeout(WAIT):
        await held.entered.wait()
    closing = asyncio.create_task(push.close())
    await asyncio.sleep(0.05)
    assert not closing.done()  # waits for the call rather than cutting it
    held.go.set()
    async with asyncio.timeout(WAIT):
        await closing
    assert held.finished == 1
    assert _texts(await platform.bob.notes(case_id)) == ["in flight"]
    assert push.status.state == S.CLOSED
    assert push_tasks() == []


@pytest.mark.asyncio
async def test_close_cuts_a_call_that_outlasts_the_grace(platform: Platform) -> None:
    case_id = await shared_case(platform)
    held = HeldMember(platform.bob)
    push = PushConnection(held, close_grace=0.1)
    push.start()
    await push.wait_for(S.CONNECTED)
    await platform.alice.post_note(case_id, "stuck")
    async with asyncio.timeout(WAIT):
        await held.entered.wait()
        await push.close()
    assert held.finished == 0
    assert push.status.state == S.CLOSED
    assert push_tasks() == []


@pytest.mark.asyncio
async def test_the_applications_calls_overlap_pushes_without_a_lock(platform: Platform) -> None:
    """Bob's application posts and renews its keys while the pushes of Alice's notes and
    commits are served on the same member: nothing is lost, doubled or refused."""
    alice, bob = platform.alice, platform.bob
    case_id = await shared_case(platform)
    synced: Recorder[bytes | None] = Recorder()
    async with PushConnection(bob, on_synced=synced) as push:
        await push.wait_for(S.CONNECTED)
        from_alice = [f"Alice {n}" for n in range(6)]
        from_bob = [f"Bob {n}" for n in range(6)]
        await asyncio.gather(
            *(alice.post_note(case_id, text) for text in from_alice),
            *(bob.post_note(case_id, text) for text in from_bob),
            alice.update_keys(case_id),
            bob.update_keys(case_id),
        )
        push.request_sync(case_id)  # Bob's own last send may have been the last push
        expected = sorted([*from_alice, *from_bob])
        await synced.until(lambda: _sorted_texts_are(bob, case_id, expected))
    await alice.sync()
    for member in (alice, bob):
        assert sorted(_texts(await member.notes(case_id))) == expected  # each exactly once
        assert await member.gaps(case_id) == []
        assert await member.store.security_events() == []
        assert await member.store.pending_outbox() == []
    assert push_tasks() == []


async def _sorted_texts_are(member: Member, case_id: bytes, expected: list[str]) -> bool:
    return sorted(_texts(await member.notes(case_id))) == expected


@pytest.mark.asyncio
async def test_start_is_once_and_an_unstarted_connection_closes() -> None:
    never_called = cast(SyncingDevice, object())  # an unstarted connection calls nothing
    push = PushConnection(never_called, rng=FixedRandom(0))
    await push.close()
    assert push.status.state == S.CLOSED
    assert await push.wait_for(S.CONNECTED) == push.status  # a closed one never waits
    with pytest.raises(PushStateError):
        push.start()
