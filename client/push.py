"""Push sync: one authenticated WebSocket per device, kept open, whose pushes become syncs of
the case or inbox they concern (DESIGN §7 "clients ... get pushed over a WebSocket", §8
"reconnects with backoff, fetches from the last cursor").

Theory of operation::

           start()                 socket open, full sync done, subscribed
    idle ──────────► connecting ─────────────────────────────────────────► connected
                      ▲      │ relay unreachable, socket refused,             │ socket closed
     backoff elapsed  │      │ sync failed                                    │ (relay restart,
     or retry_now()   │      ▼                                                │ heartbeat lost),
                     offline (retry_at) ◄─────────────────────────────────────┘ sync failed

    close() from any state ─► closed;  the relay refusing the device ─► closed ("device_refused")

Nothing is lost or duplicated because no delivery state lives here: every case keeps its
cursor in the local store, and every call made here is a public :class:`~client.member.Member`
method that fetches from that cursor. The relay does not replay pushes missed while the
socket was down, so each (re)connect first runs a full ``sync()`` — which also sends the
outbox — and only then subscribes, from the cursors that sync left: the relay pushes
exactly what came after them. A session token refused at the upgrade is renewed by
:meth:`~client.relay_api.RelayApi.open_push`.

A pushed frame is a hint, not data: it marks its case (or the inbox) as due, and one worker
takes due keys in order and calls ``sync_case`` / ``process_inbox``. A burst of pushes for a
case costs one fetch; a push at or below the case's cursor costs nothing. Memory is bounded
by the number of cases held: at most one due key and one cursor per case.

Errors: a typed error from the relay or a Member call ends the connection; its ``code`` is
the status's ``error`` and the connection is retried with backoff. Only the relay refusing
the device itself (revoked, expired) is final. Anything else is a bug: the connection
closes with the error ``internal`` and :meth:`PushConnection.close` raises it.

Backoff: the wait before retry *n* is ``min(cap, initial · factor^(n-1))`` less a random
``jitter`` fraction of it (devices cut off by one relay restart do not all return at the same
instant); the count resets once a connection has stayed up ``reset_after`` seconds, so a
relay that accepts and at once drops the socket is not hammered. Time (``sleep``, ``clock``)
and randomness are passed in, so tests are deterministic.

Concurrency: the application calls the same member (``post_note``, ``create_case``, ...)
while pushes are served, with no lock of its own: :class:`~client.member.Member` serialises
whatever touches one case, or its inbox, itself (:mod:`client.case_locks`). Shutdown never
interrupts a Member call unless it outlasts ``close_grace`` — counting any time the call
waits for the member's locks behind the application's own calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol, TypeVar

from client.relay_api import (
    PushedError,
    PushedMessage,
    PushedWelcome,
    PushFrame,
    PushSocket,
    RelayApi,
    RelayError,
)
from crypto.errors import CasecircleError
from crypto.random import RandomSource
from protocol.errors import InternalError

log = logging.getLogger(__name__)

HEARTBEAT = 20.0  # seconds between our pings: a relay gone without a close frame is noticed
CLOSE_GRACE = 10.0  # seconds close() lets a running Member call finish before cancelling it
TERMINAL_CODES = frozenset({"device_refused"})  # the relay will not take this device back

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
T = TypeVar("T")


class ConnectionState(StrEnum):
    IDLE = "idle"  # not started
    CONNECTING = "connecting"  # opening the socket and catching up
    CONNECTED = "connected"  # caught up; pushes arrive as they are committed
    OFFLINE = "offline"  # waiting for ``retry_at`` before connecting again
    CLOSED = "closed"  # stopped for good


_S = ConnectionState
TRANSITIONS: Mapping[ConnectionState, frozenset[ConnectionState]] = {
    _S.IDLE: frozenset({_S.CONNECTING, _S.CLOSED}),
    _S.CONNECTING: frozenset({_S.CONNECTED, _S.OFFLINE, _S.CLOSED}),
    _S.CONNECTED: frozenset({_S.OFFLINE, _S.CLOSED}),
    _S.OFFLINE: frozenset({_S.CONNECTING, _S.CLOSED}),
    _S.CLOSED: frozenset(),
}


class PushStateError(InternalError):
    """A state change the table does not allow, or a second start: a bug here."""

    code = "push_state"


@dataclass(frozen=True, slots=True, kw_only=True)
class PushStatus:
    """What the application shows: the state, and when offline the time of the next try."""

    state: ConnectionState
    failures: int = 0  # attempts and short-lived connections that failed in a row
    retry_at: float | None = None  # ``clock()`` time of the next attempt, only when offline
    error: str | None = None  # code of what ended the last connection or attempt

    def __post_init__(self) -> None:
        if (self.retry_at is not None) != (self.state == ConnectionState.OFFLINE):
            raise PushStateError("retry_at is set exactly when offline")
        if self.failures < 0:
            raise PushStateError("failures cannot be negative")


def check_transition(old: ConnectionState, new: ConnectionState) -> None:
    if new not in TRANSITIONS[old]:
        raise PushStateError(f"push connection cannot go from {old} to {new}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    """How long to wait before reconnecting (see the module docstring)."""

    initial: float = 1.0
    factor: float = 2.0
    cap: float = 60.0
    jitter: float = 0.5  # fraction of the delay that is random
    reset_after: float = 30.0  # seconds a connection must last to reset the failure count

    def __post_init__(self) -> None:
        if not (0 < self.initial <= self.cap and self.factor >= 1 and 0 <= self.jitter <= 1):
            raise ValueError("backoff needs 0 < initial <= cap, factor >= 1, 0 <= jitter <= 1")
        if self.reset_after < 0:
            raise ValueError("reset_after cannot be negative")

    def delay(self, failures: int, unit: float) -> float:
        """The wait after ``failures`` (>= 1) failures in a row, for ``unit`` uniform in
        [0, 1); never more than ``cap``."""
        if failures < 1 or not 0 <= unit < 1:
            raise ValueError("delay needs failures >= 1 and 0 <= unit < 1")
        ceiling = self.initial
        for _ in range(failures - 1):
            if ceiling >= self.cap:
                break
            ceiling *= self.factor
        ceiling = min(ceiling, self.cap)
        return ceiling * (1 - self.jitter * unit)


def uniform_unit(rng: RandomSource) -> float:
    """A float uniform in [0, 1) from 53 random bits."""
    return (int.from_bytes(rng.random_bytes(8), "big") >> 11) / (1 << 53)


class CursorStore(Protocol):
    async def group_cursors(self) -> dict[bytes, int]: ...

    async def inbox_cursor(self) -> int: ...


class SyncingDevice(Protocol):
    """What this module needs of a :class:`~client.member.Member`."""

    @property
    def api(self) -> RelayApi: ...

    @property
    def store(self) -> CursorStore: ...

    @property
    def rng(self) -> RandomSource: ...

    async def sync(self) -> None: ...

    async def sync_case(self, case_id: bytes) -> None: ...

    async def process_inbox(self) -> list[bytes]: ...


StatusListener = Callable[[PushStatus], None]
SyncListener = Callable[[bytes | None], None]  # a case id, or None: anything may have changed

_INBOX = b""  # the due key of the inbox (case ids are never empty)
_DueKey = bytes | None  # a case id, _INBOX, or None for a full sync


@dataclass(slots=True)
class _Subscriptions:
    """What the open socket is subscribed to, with the local cursors last read."""

    cursors: dict[bytes, int] = field(default_factory=dict)
    refused: set[bytes] = field(default_factory=set)  # the relay stopped pushing these


class PushConnection:
    """Keeps one push WebSocket open for ``member`` (see the module docstring).

    Use ``async with PushConnection(member) as push:`` or :meth:`start` and :meth:`close`;
    close it before the member (it uses the member's HTTP session). Listeners are called in
    the event loop and must not raise.
    """

    def __init__(
        self,
        member: SyncingDevice,
        *,
        backoff: Backoff | None = None,
        rng: RandomSource | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.time,
        heartbeat: float | None = HEARTBEAT,
        close_grace: float = CLOSE_GRACE,
        on_status: StatusListener | None = None,
        on_synced: SyncListener | None = None,
    ) -> None:
        self._member = member
        self.backoff = backoff if backoff is not None else Backoff()
        self._rng = rng if rng is not None else member.rng
        self._sleep = sleep
        self._clock = clock
        self._heartbeat = heartbeat
        self._close_grace = close_grace
        self._on_status = on_status
        self._on_synced = on_synced
        self._status = PushStatus(state=ConnectionState.IDLE)
        self._waiters: list[tuple[frozenset[ConnectionState], asyncio.Future[PushStatus]]] = []
        self._task: asyncio.Task[None] | None = None
        self._connected_at: float | None = None  # clock() when the connection went live
        self._stop = asyncio.Event()  # close() was called
        self._busy = False  # inside a Member call: close() lets it finish
        self._wake = asyncio.Event()  # due work, or the socket ended
        self._retry_now = asyncio.Event()
        self._due: dict[_DueKey, None] = {}  # ordered set
        self._pushed: dict[bytes, int] = {}  # highest seq pushed per due case
        self._subscriptions = _Subscriptions()
        self._inbox_cursor = 0  # highest inbox id pushed (the member stores what it read)

    # --- the application's side ---------------------------------------------------------

    @property
    def status(self) -> PushStatus:
        return self._status

    def start(self) -> None:
        if self._task is not None or self._status.state != ConnectionState.IDLE:
            raise PushStateError("a push connection is started once")
        self._task = asyncio.get_running_loop().create_task(self._run(), name="casecircle push")

    async def close(self) -> None:
        """Stop: a running Member call may finish (up to ``close_grace``), nothing else
        waits; the socket is closed. Raises what stopped the connection if it was a bug."""
        self._stop.set()
        task = self._task
        if task is None:
            if self._status.state == ConnectionState.IDLE:
                self._set(ConnectionState.CLOSED)
            return
        self._wake.set()
        if not self._busy:
            task.cancel()
        done, _ = await asyncio.wait({task}, timeout=self._close_grace)
        if not done:
            task.cancel()
            await asyncio.wait({task})
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error

    async def __aenter__(self) -> PushConnection:
        self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def request_sync(self, case_id: bytes | None = None) -> None:
        """Sync one case now (say, one just created here, so that it is subscribed), or
        everything; when not connected the next connection's full sync does it."""
        if case_id is not None:
            self._pushed.pop(case_id, None)
        self._due[case_id] = None
        self._wake.set()

    def retry_now(self) -> None:
        """Cut the current backoff wait short (the user asked to reconnect)."""
        self._retry_now.set()

    async def wait_for(self, *states: ConnectionState) -> PushStatus:
        """The current status if it is in one of ``states``, else the first one that is from
        now on — or the closed one, since nothing follows it."""
        if self._status.state in states or self._status.state == ConnectionState.CLOSED:
            return self._status
        future: asyncio.Future[PushStatus] = asyncio.get_running_loop().create_future()
        waiter = (frozenset(states), future)
        self._waiters.append(waiter)
        try:
            return await future
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)

    # --- state --------------------------------------------------------------------------

    def _set(
        self,
        state: ConnectionState,
        *,
        retry_at: float | None = None,
        error: str | None = None,
    ) -> None:
        check_transition(self._status.state, state)
        self._status = replace(self._status, state=state, retry_at=retry_at, error=error)
        if state == ConnectionState.OFFLINE:
            log.info("push offline (%s); retry in %.1f s", error, (retry_at or 0) - self._clock())
        else:
            log.info("push %s", state.value)
        for states, future in list(self._waiters):
            if (state in states or state == ConnectionState.CLOSED) and not future.done():
                future.set_result(self._status)
        if self._on_status is not None:
            self._on_status(self._status)

    def _count_failure(self) -> int:
        """One more failure in a row, unless the connection that ended had been stable."""
        failures = self._status.failures
        since = self._connected_at
        if since is not None and self._clock() - since >= self.backoff.reset_after:
            failures = 0
        failures += 1
        self._status = replace(self._status, failures=failures)
        return failures

    # --- the connection loop ------------------------------------------------------------

    async def _run(self) -> None:
        final_error: str | None = None
        try:
            while not self._stop.is_set():
                self._set(ConnectionState.CONNECTING, error=self._status.error)
                self._connected_at = None
                try:
                    await self._connect_and_serve()
                    error = "push_closed"
                except CasecircleError as exc:
                    error = exc.code
                    if isinstance(exc, RelayError) and exc.relay_code in TERMINAL_CODES:
                        final_error = exc.relay_code
                        log.warning("the relay refuses this device: push stopped")
                        return
                if self._stop.is_set():
                    return
                failures = self._count_failure()
                delay = self.backoff.delay(failures, uniform_unit(self._rng))
                self._set(ConnectionState.OFFLINE, retry_at=self._clock() + delay, error=error)
                await self._pause(delay)
        except Exception:
            final_error = "internal"
            raise
        finally:
            self._set(ConnectionState.CLOSED, error=final_error)

    async def _pause(self, delay: float) -> None:
        self._retry_now.clear()
        sleeper = asyncio.ensure_future(self._sleep(delay))
        waker = asyncio.ensure_future(self._retry_now.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.wait({sleeper, waker})
        if not sleeper.cancelled() and (error := sleeper.exception()) is not None:
            raise error

    async def _connect_and_serve(self) -> None:
        """One connection: open, catch up, subscribe, then serve pushes until it ends."""
        socket = await self._member.api.open_push(heartbeat=self._heartbeat)
        reader = asyncio.create_task(self._read(socket), name="casecircle push reader")
        try:
            self._due.clear()  # what was due before is in the full sync
            self._pushed.clear()
            await self._call(self._member.sync)  # pushes missed while away are not replayed
            self._notify(None)
            if self._stop.is_set():
                return
            await self._subscribe_all(socket)
            self._connected_at = self._clock()
            self._set(ConnectionState.CONNECTED)
            await self._work(socket, reader)
        finally:
            reader.cancel()
            await asyncio.wait({reader})
            if not reader.cancelled():
                reader.exception()  # retrieved: _work raised it already when it mattered
            await socket.close()
            self._subscriptions = _Subscriptions()

    async def _read(self, socket: PushSocket) -> None:
        try:
            while (frame := await socket.receive()) is not None:
                self._on_frame(frame)
        finally:
            self._wake.set()

    def _on_frame(self, frame: PushFrame) -> None:
        subscribed = self._subscriptions.cursors
        match frame:
            case PushedMessage(group_id=case_id, seq=seq):
                cursor = subscribed.get(case_id)
                if cursor is None or seq <= cursor:
                    return  # not ours to follow, or already held
                self._pushed[case_id] = max(seq, self._pushed.get(case_id, 0))
                self._due[case_id] = None
            case PushedWelcome(item_id=item_id, group_id=case_id):
                self._inbox_cursor = max(self._inbox_cursor, item_id)
                if case_id in subscribed or case_id in self._subscriptions.refused:
                    return  # a case held already
                self._due[_INBOX] = None
            case PushedError(group_id=case_id, error=code):
                log.warning("the relay stopped pushing a case: %s", code)
                subscribed.pop(case_id, None)
                self._subscriptions.refused.add(case_id)
        self._wake.set()

    async def _work(self, socket: PushSocket, reader: asyncio.Task[None]) -> None:
        while not self._stop.is_set():
            if reader.done():
                reader.result()  # a malformed frame from the relay ends the connection
                return
            if not self._due:
                self._wake.clear()
                await self._wake.wait()
                continue
            key = next(iter(self._due))
            del self._due[key]
            await self._serve(key)
            await self._subscribe_new(socket)

    async def _serve(self, key: _DueKey) -> None:
        if key is None:
            await self._call(self._member.sync)
            self._notify(None)
        elif key == _INBOX:
            if await self._call(self._member.process_inbox):
                self._notify(None)
        else:
            pushed = self._pushed.pop(key, None)
            if pushed is not None and pushed <= self._subscriptions.cursors.get(key, -1):
                return  # an earlier call fetched it already
            await self._call(lambda: self._member.sync_case(key))
            self._notify(key)

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        self._busy = True
        try:
            return await call()
        finally:
            self._busy = False

    def _notify(self, case_id: bytes | None) -> None:
        if self._on_synced is not None:
            self._on_synced(case_id)

    async def _subscribe_all(self, socket: PushSocket) -> None:
        store = self._member.store
        cursors = await store.group_cursors()
        self._subscriptions = _Subscriptions(cursors=dict(cursors))
        inbox = max(self._inbox_cursor, await store.inbox_cursor())
        await socket.subscribe(cursors, inbox)

    async def _subscribe_new(self, socket: PushSocket) -> None:
        """Refresh the cursors, and subscribe the cases the last call brought in."""
        subscriptions = self._subscriptions
        cursors = await self._member.store.group_cursors()
        new = {
            case_id: cursor
            for case_id, cursor in cursors.items()
            if case_id not in subscriptions.cursors and case_id not in subscriptions.refused
        }
        for case_id in subscriptions.cursors.keys() & cursors.keys():
            subscriptions.cursors[case_id] = cursors[case_id]
        if new:
            subscriptions.cursors.update(new)
            await socket.subscribe(new, None)
