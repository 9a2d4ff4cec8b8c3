"""Serialising a member's work (DESIGN §8): pushes, the application and the sync engine call
one :class:`~client.member.Member` from several tasks at once, and every case operation
loads the case's MLS state, advances it and saves it. Two such operations interleaved
would save a stale state over a ratchet that had moved on — a message key used twice, or
an epoch lost — so each case has a lock, and whatever changes a case holds it throughout.

Three kinds of lock, always taken in this order, never against it::

    device      ──►  case (one at a time)  ──►  directory
    inbox, KeyPackages   a case's state, cursor      the log replay
                         and outbox

A task may take a lock only of a later kind than every lock it holds, so no two tasks
can each wait for a lock the other holds: there is no deadlock. The rule is checked, not
trusted: taking a lock against it (a second case lock, or any lock again) raises
:class:`CaseLockOrderError` at once instead of hanging. Public ``Member`` methods take
the locks; code running under a lock calls only the unlocked internal forms.

The local store has its own lock (:mod:`client.store`), held only inside one store call
and never while waiting for one of these, so it comes last in the order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from enum import IntEnum
from typing import Any

from protocol.errors import InternalError


class CaseLockOrderError(InternalError):
    """A lock taken against the order above: a bug that would otherwise deadlock."""

    code = "case_lock_order"


class _Kind(IntEnum):
    DEVICE = 1
    CASE = 2
    DIRECTORY = 3


_Held = tuple[_Kind, bytes | None]


class CaseLocks:
    """The locks of one device: see the module docstring."""

    def __init__(self) -> None:
        self._device = asyncio.Lock()
        self._directory = asyncio.Lock()
        self._cases: dict[bytes, asyncio.Lock] = {}  # one per case held: bounded
        self._held: dict[asyncio.Task[Any] | None, list[_Held]] = {}

    def device(self) -> contextlib.AbstractAsyncContextManager[None]:
        """The inbox and this device's KeyPackages."""
        return self._hold(_Kind.DEVICE, None, self._device)

    def case(self, case_id: bytes) -> contextlib.AbstractAsyncContextManager[None]:
        """One case's state, cursor and outbox."""
        lock = self._cases.setdefault(case_id, asyncio.Lock())
        return self._hold(_Kind.CASE, case_id, lock)

    def directory(self) -> contextlib.AbstractAsyncContextManager[None]:
        """The replay of the transparency log."""
        return self._hold(_Kind.DIRECTORY, None, self._directory)

    def require_case(self, case_id: bytes) -> None:
        """Raise unless the running task holds ``case_id``'s lock: the check at the top of
        every internal form that changes a case."""
        if (_Kind.CASE, case_id) not in self._held.get(asyncio.current_task(), ()):
            raise CaseLockOrderError("a case was changed without holding its lock")

    @contextlib.asynccontextmanager
    async def _hold(
        self, kind: _Kind, key: bytes | None, lock: asyncio.Lock
    ) -> AsyncIterator[None]:
        task = asyncio.current_task()
        held = self._held.get(task, [])
        if any(other >= kind for other, _ in held):
            raise CaseLockOrderError(
                f"a {kind.name.lower()} lock taken while holding a lock of its kind or later"
            )
        async with lock:
            held = self._held.setdefault(task, [])
            held.append((kind, key))
            try:
                yield
            finally:
                held.remove((kind, key))
                if not held:
                    del self._held[task]
