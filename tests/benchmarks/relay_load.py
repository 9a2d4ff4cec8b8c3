"""The load of :mod:`tests.benchmarks.bench_relay`: worker processes that send or listen.

Each worker is a process of its own (started with ``spawn``) with its own event loop, so
that the load is not limited by what one Python process can generate:

* :func:`run_sends` — senders in closed loop, each on one kept-alive HTTP/1.1 connection,
  all workers starting together; the answers' statuses and latencies.
* :class:`HeldSockets` — WebSockets opened, authenticated and subscribed, held until
  released; when each pushed message arrived (:mod:`tests.benchmarks.push_receiver`).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event as EventType
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tests.benchmarks.push_receiver import PushReceiver, open_receiver

TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass(frozen=True)
class SendJob:
    url: str
    tag: str
    tokens: list[str]
    messages: list[str]
    warmup: float
    duration: float


@dataclass
class SendStats:
    completed: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds


@dataclass(frozen=True)
class HoldJob:
    url: str
    tokens: list[str]
    sockets_per_token: int
    group: str
    cursor: int


@dataclass
class HoldStats:
    opened: int = 0
    receipts: list[tuple[int, int, float]] = field(default_factory=list)  # socket, seq, time


def _send_worker(job: SendJob, start: Any, results: Any) -> None:
    results.put(asyncio.run(_send_load(job, start)))


async def _send_load(job: SendJob, start: Any) -> SendStats:
    """Each sender keeps one HTTP/1.1 connection and sends its next request when the
    previous answer is in. The requests are written as bytes and the answers read by their
    Content-Length: a general HTTP client would spend more CPU per request than the
    servers measured, on CPUs they share."""
    stats = SendStats()
    target = urlsplit(job.url)
    host, port = target.hostname or "127.0.0.1", target.port or 80
    streams = [await asyncio.open_connection(host, port) for _ in job.tokens]
    start.wait()  # a Barrier: every worker starts together
    measure_from = time.monotonic() + job.warmup
    measure_to = measure_from + job.duration

    async def sender(index: int, token: str) -> None:
        reader, writer = streams[index]
        head = (
            f"POST {target.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        ).encode()
        sent = 0
        while (begun := time.monotonic()) < measure_to:
            body = json.dumps(
                {
                    "client_message_id": f"{job.tag}-{index}-{sent}",
                    "message": job.messages[(index * 613 + sent) % len(job.messages)],
                }
            ).encode()
            sent += 1
            writer.write(b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body))
            status = await _read_answer(reader)
            done = time.monotonic()
            if measure_from <= done < measure_to:
                if status == 201:
                    stats.completed += 1
                    stats.latencies.append(done - begun)
                else:
                    stats.errors += 1
        writer.close()

    await asyncio.gather(*(sender(i, token) for i, token in enumerate(job.tokens)))
    return stats


async def _read_answer(reader: asyncio.StreamReader) -> int:
    """The status of one HTTP/1.1 answer with a Content-Length, its body read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in lines[1:] if line[:15].lower() == b"content-length:"
    )
    await reader.readexactly(length)
    return int(lines[0].split(b" ", 2)[1])


def _hold_worker(job: HoldJob, ready: EventType, stop: EventType, results: Any) -> None:
    results.put(asyncio.run(_hold_sockets(job, ready, stop)))


async def _hold_sockets(job: HoldJob, ready: EventType, stop: EventType) -> HoldStats:
    stats = HoldStats()
    subscribe = json.dumps({"type": "subscribe", "groups": {job.group: job.cursor}}).encode()
    target = urlsplit(job.url)
    host, port = target.hostname or "127.0.0.1", target.port or 80
    limit = asyncio.Semaphore(32)

    async def hold(token: str) -> PushReceiver:
        async with limit:
            return await asyncio.wait_for(open_receiver(host, port, token, subscribe), 60)

    receivers = await asyncio.gather(
        *(hold(token) for token in job.tokens for _ in range(job.sockets_per_token))
    )
    stats.opened = len(receivers)
    ready.set()
    await asyncio.to_thread(stop.wait)
    for index, receiver in enumerate(receivers):
        receiver.release()
        for arrived, data in receiver.frames:
            frame = json.loads(data)
            if frame.get("type") == "message":
                stats.receipts.append((index, frame["seq"], arrived))
    return stats


def _split(items: Sequence[str], parts: int) -> list[list[str]]:
    return [list(items[i::parts]) for i in range(parts)]


def _context() -> multiprocessing.context.SpawnContext:
    return multiprocessing.get_context("spawn")


def run_sends(
    url: str,
    tag: str,
    tokens: list[str],
    messages: list[str],
    *,
    workers: int,
    warmup: float,
    duration: float,
) -> SendStats:
    """One sender per token, spread over ``workers`` processes, all started together; each
    measures the answers that arrive in the ``duration`` seconds after ``warmup``."""
    ctx = _context()
    start = ctx.Barrier(workers)
    results = ctx.Queue()
    processes = [
        ctx.Process(
            target=_send_worker,
            args=(SendJob(url, f"{tag}-w{n}", share, messages, warmup, duration), start, results),
        )
        for n, share in enumerate(_split(tokens, workers))
    ]
    for process in processes:
        process.start()
    total = SendStats()
    for _ in processes:
        stats: SendStats = results.get(timeout=warmup + duration + 120)
        total.completed += stats.completed
        total.errors += stats.errors
        total.latencies += stats.latencies
    for process in processes:
        process.join()
    return total


@dataclass
class HeldSockets:
    """Worker processes holding WebSockets open until :meth:`release`."""

    workers: list[Any]
    stop: EventType
    results: Any

    @classmethod
    def open(
        cls, url: str, tokens: list[str], per_token: int, group: bytes, cursor: int, parts: int
    ) -> HeldSockets:
        """``per_token`` sockets for each token, subscribed to ``group`` after ``cursor``,
        spread over ``parts`` processes; returns once every socket is open."""
        ctx = _context()
        stop, results = ctx.Event(), ctx.Queue()
        workers, ready = [], []
        for share in _split(tokens, parts):
            event = ctx.Event()
            job = HoldJob(url, share, per_token, group.hex(), cursor)
            workers.append(ctx.Process(target=_hold_worker, args=(job, event, stop, results)))
            ready.append(event)
        for worker in workers:
            worker.start()
        for worker, event in zip(workers, ready, strict=True):
            while not event.wait(0.2):
                if not worker.is_alive():
                    raise RuntimeError("a socket-holding worker failed")
        return cls(workers, stop, results)

    def release(self) -> HoldStats:
        self.stop.set()
        total = HoldStats()
        for _ in self.workers:
            stats: HoldStats = self.results.get(timeout=60)
            total.opened += stats.opened
            total.receipts += stats.receipts
        for worker in self.workers:
            worker.join()
        return total
