"""A separate process for the kill -9 tests of the outbox (ATTACKS.md F1).

``python -m tests.client.outbox_writer PROFILE_DIR COUNT`` unlocks the (tiny-cost) profile,
queues COUNT outbox entries one by one and prints each client message id on its own line
only after its ``enqueue`` returned, then waits to be killed. Whatever it printed must be
in the outbox after a SIGKILL.

The ids are numbered on from the entries already queued, so a writer started again after a
kill continues the sequence instead of colliding with it: the outbox then holds exactly
``entry-000000`` up to the last one written, with no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.client.conftest import PASSPHRASE, tiny_profile

GROUP_ID = bytes(range(16))


def payload(client_message_id: str) -> bytes:
    return f"note written as {client_message_id}".encode()


async def main(root: Path, count: int) -> None:
    unlocked = await tiny_profile(root).unlock(PASSPHRASE)
    store = await unlocked.store()
    start = len(await store.pending_outbox())
    for index in range(start, start + count):
        client_message_id = f"entry-{index:06d}"
        await store.enqueue(client_message_id, GROUP_ID, payload(client_message_id))
        sys.stdout.write(client_message_id + "\n")
        sys.stdout.flush()
    sys.stdout.write("done\n")
    sys.stdout.flush()
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
