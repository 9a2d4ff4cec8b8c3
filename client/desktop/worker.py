"""Where the desktop app's work runs: one asyncio event loop in a thread of its own.

The client library is asynchronous and its slow steps (the relay, Argon2id, MLS) must never
freeze a window, so the Qt thread only *submits* coroutines here and is called back with
their outcome. Callbacks are delivered through a Qt signal to a receiver that lives in the
Qt thread, so they always run there, between events, never in the worker's thread::

    Qt thread                          worker thread (asyncio)
    submit(coro, done, failed) ──────► run coro
         ◄── queued signal ─────────── result or exception
    done(result) / failed(error)

A call whose window went away is cancelled with :meth:`PendingCall.cancel`; its callbacks
are then never called.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Signal, Slot

T = TypeVar("T")
Done = Callable[[T], None]
Failed = Callable[[BaseException], None]


class PendingCall(QObject, Generic[T]):
    """One submitted coroutine; its callbacks run in the Qt thread (see the module)."""

    _outcome = Signal(object, object)  # (result, error): emitted from the worker thread

    def __init__(
        self,
        done: Done[T] | None,
        failed: Failed | None,
        forget: Callable[[PendingCall[Any]], None],
    ) -> None:
        super().__init__()
        self._done = done
        self._failed = failed
        self._forget = forget
        self._future: concurrent.futures.Future[T] | None = None
        self._cancelled = False
        self._delivered = False
        self._outcome.connect(self._deliver)

    def attach(self, future: concurrent.futures.Future[T]) -> None:
        self._future = future
        future.add_done_callback(self._finished)

    def cancel(self) -> None:
        """Drop the callbacks and cancel the coroutine if it has not finished."""
        self._cancelled = True
        if self._future is not None:
            self._future.cancel()

    @property
    def finished(self) -> bool:
        """Its outcome was delivered in the Qt thread (or it was cancelled)."""
        return self._cancelled or self._delivered

    def _finished(self, future: concurrent.futures.Future[T]) -> None:
        """In the worker thread: hand the outcome to the Qt thread."""
        if future.cancelled():
            self._outcome.emit(None, asyncio.CancelledError())
            return
        error = future.exception()
        self._outcome.emit(None if error else future.result(), error)

    @Slot(object, object)
    def _deliver(self, result: object, error: object) -> None:
        """In the Qt thread."""
        self._delivered = True
        self._forget(self)
        if self._cancelled:
            return
        if isinstance(error, BaseException):
            if self._failed is not None and not isinstance(error, asyncio.CancelledError):
                self._failed(error)
        elif self._done is not None:
            self._done(result)  # type: ignore[arg-type]


class CallGroup:
    """The calls one page has out: ``busy`` until each one's outcome was shown (tests and
    timers wait on it); a failure goes to ``failed`` unless the call names its own."""

    def __init__(self, worker: AsyncWorker, failed: Failed) -> None:
        self._worker = worker
        self._failed = failed
        self._calls: list[PendingCall[Any]] = []

    def submit(
        self,
        coroutine: Coroutine[Any, Any, T],
        done: Done[T] | None = None,
        failed: Failed | None = None,
    ) -> PendingCall[T]:
        call = self._worker.submit(coroutine, done, failed or self._failed)
        self._calls = [c for c in self._calls if not c.finished] + [call]
        return call

    @property
    def busy(self) -> bool:
        return any(not c.finished for c in self._calls)


class AsyncWorker:
    """The event loop thread. Start it once; :meth:`stop` runs a last coroutine (closing
    the session) and ends the thread."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="casecircle worker", daemon=True)
        self._pending: set[PendingCall[Any]] = set()  # kept alive until delivered
        self._stopped = False

    def start(self) -> None:
        self._thread.start()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def submit(
        self,
        coroutine: Coroutine[Any, Any, T],
        done: Done[T] | None = None,
        failed: Failed | None = None,
    ) -> PendingCall[T]:
        """Run ``coroutine`` in the worker; ``done(result)`` or ``failed(error)`` follows in
        the Qt thread."""
        call: PendingCall[T] = PendingCall(done, failed, self._pending.discard)
        if self._stopped:  # the window is closing: late events start nothing
            coroutine.close()
            call.cancel()
            return call
        self._pending.add(call)
        call.attach(asyncio.run_coroutine_threadsafe(coroutine, self._loop))
        return call

    def run_blocking(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coroutine`` and wait for it: only for shutting down, when the window is
        gone and nothing is left to keep responsive."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        self._stopped = True
        if not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            if pending:
                self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()
