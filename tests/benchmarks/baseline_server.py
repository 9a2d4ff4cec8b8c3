"""The baseline the relay's send path is measured against: a bare aiohttp + aiosqlite insert.

Run by :mod:`tests.benchmarks.bench_relay` as a process of its own::

    python -m tests.benchmarks.baseline_server --data-dir DIR --port N

It answers ``POST /v1/groups/{group_id}/messages`` (the relay's send route, so both servers
get byte-for-byte the same requests) by storing the raw request body in one table and
answering with the row id once the row is durable. Nothing else: no authentication, no
parsing, no ordering rules, no access log. The storage is set up as the relay's is
(DESIGN.md §7): WAL, ``synchronous=FULL``, and one writer task that owns the connection
and commits queued inserts in batches of at most :data:`BATCH_LIMIT` (group commit, one
fsync per batch), resolving each request only after its batch committed::

    request ─► queue ─► writer: BEGIN IMMEDIATE; INSERT ... (each queued body); COMMIT
    request ◄─ row id ◄──────── only now
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
from aiohttp import web

BATCH_LIMIT = 256  # the relay's default write_batch
PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL")


class InsertWriter:
    """The single owner of the connection: queued bodies, committed in batches."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._queue: asyncio.Queue[tuple[bytes, asyncio.Future[int]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def insert(self, body: bytes) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((body, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH_LIMIT and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                ids = []
                for body, _ in batch:
                    cursor = await self._conn.execute(
                        "INSERT INTO messages (body) VALUES (?)", (body,)
                    )
                    ids.append(cursor.lastrowid)
                await self._conn.execute("COMMIT")
            except Exception as exc:  # noqa: BLE001 - every waiting request learns of it
                await self._conn.execute("ROLLBACK")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), row_id in zip(batch, ids, strict=True):
                if not future.done() and row_id is not None:
                    future.set_result(row_id)


WRITER = web.AppKey("writer", InsertWriter)


async def send(request: web.Request) -> web.Response:
    row_id = await request.app[WRITER].insert(await request.read())
    return web.json_response({"seq": row_id}, status=201)


def create_app(database: Path) -> web.Application:
    async def storage(app: web.Application) -> AsyncIterator[None]:
        conn = await aiosqlite.connect(database, isolation_level=None)
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, body BLOB)"
        )
        writer = InsertWriter(conn)
        writer.start()
        app[WRITER] = writer
        yield
        await writer.stop()
        await conn.close()

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/v1/groups/{group_id}/messages", send)
    app.cleanup_ctx.append(storage)
    return app


async def serve(database: Path, port: int) -> None:
    runner = web.AppRunner(create_app(database), access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args.data_dir / "baseline.sqlite3", args.port))


if __name__ == "__main__":
    main()
