"""Faults F1 and F2 (ATTACKS.md): kill -9 under load, and resends after a lost ack.

F1: ``casecircle server`` runs as its own process. Several devices send real MLS messages
into one group, each with a client message id, several at a time; the relay is killed with
SIGKILL at a random moment, restarted on the same data directory, and every device resends
what was not acknowledged (same id) and a few things that were. After the last round:
every acknowledged message is in the group's log exactly once, at the sequence number its
acknowledgement named; resends got the original sequence number; sequence numbers have no
gap; and SQLite's integrity check passes — on each crash image as well as at the end.
Meanwhile one more device of the group follows it over a WebSocket, reconnecting after
each kill with its cursor: it is pushed the whole log, in sequence order, each message
once.

F2: an acknowledgement lost on the way back (the relay answered, the device never read it)
and a device that vanished mid-request: the resend yields one stored copy, and the
original sequence number when the first one was stored.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.server.handlers.test_groups import GROUP, group_of
from tests.server.relay import TEST_LIMITS, Relay, RelayClient, RelayEndpoint, b64, root_key
from tests.server.relay_process import RelayProcess, integrity_check, relay_process

pytestmark = pytest.mark.asyncio

ROUNDS = 24
DEVICES = 4
IN_FLIGHT = 3  # concurrent sends per device
NEW_PER_ROUND = 400  # far more than a round lasts: the kill, not the budget, ends it
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=5)
SEND_FAILURES = (aiohttp.ClientError, TimeoutError, ConnectionError)


@dataclass
class Ledger:
    """What the devices sent and what the relay acknowledged."""

    payloads: dict[str, bytes] = field(default_factory=dict)  # every message, by client id
    sender: dict[str, str] = field(default_factory=dict)  # client id -> device
    acked: dict[str, int] = field(default_factory=dict)  # client id -> seq acknowledged
    unacked: dict[str, dict[str, None]] = field(default_factory=dict)  # device -> ids
    lost_acks: int = 0  # resends of unacknowledged sends that were stored after all
    acked_resends: int = 0
    failed_sends: int = 0

    def new_message(self, client: RelayClient) -> str:
        assert client.mls.group is not None
        client_id = f"{client.id[:8]}-{uuid.uuid4()}"
        note = f"note {len(self.payloads)} from {client.id[:8]}".encode()
        self.payloads[client_id] = client.mls.group.protect(note, client.mls.rng)
        self.sender[client_id] = client.id
        self.unacked.setdefault(client.id, {})[client_id] = None
        return client_id

    def record(self, client_id: str, status: int, body: object) -> None:
        assert isinstance(body, dict) and status in (200, 201), (status, body)
        seq = body["seq"]
        if client_id in self.acked:  # a resend of an acknowledged message
            assert (status, body["duplicate"], seq) == (200, True, self.acked[client_id])
            self.acked_resends += 1
            return
        if status == 200:  # stored before the kill; the acknowledgement was lost
            assert body["duplicate"] is True
            self.lost_acks += 1
        else:
            assert body["duplicate"] is False
        self.acked[client_id] = seq
        del self.unacked[self.sender[client_id]][client_id]


async def device_round(
    client: RelayClient, ledger: Ledger, rng: random.Random, *, resend_acked: int
) -> None:
    """Resend what is unacknowledged, resend a few acknowledged ones, then send new ones
    until the relay is gone."""
    queue = list(ledger.unacked.get(client.id, {}))
    mine = [cid for cid in ledger.acked if ledger.sender[cid] == client.id]
    queue += rng.sample(mine, min(resend_acked, len(mine)))
    rng.shuffle(queue)
    budget = [NEW_PER_ROUND]

    def next_id() -> str | None:
        if queue:
            return queue.pop()
        if budget[0] == 0:
            return None
        budget[0] -= 1
        return ledger.new_message(client)

    async def worker() -> None:
        while (client_id := next_id()) is not None:
            try:
                status, body = await client.send(
                    GROUP, ledger.payloads[client_id], client_message_id=client_id
                )
            except SEND_FAILURES:
                ledger.failed_sends += 1
                return  # the relay is gone; what was in flight stays unacknowledged
            ledger.record(client_id, status, body)

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))


async def follow(
    endpoint: RelayEndpoint,
    reader: RelayClient,
    pushed: list[tuple[int, bytes]],
    *,
    until: int | None = None,
) -> None:
    """Take pushes from the cursor ``pushed`` ends at, until ``until`` or the relay dies;
    each must be the next sequence number."""
    try:
        async with endpoint.http.ws_connect(
            endpoint.url + "/v1/ws", headers={"Authorization": f"Bearer {reader.token}"}
        ) as ws:
            cursor = pushed[-1][0] if pushed else 0
            await ws.send_json({"type": "subscribe", "groups": {GROUP.hex(): cursor}})
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    return
                frame = json.loads(message.data)
                assert frame["type"] == "message" and frame["seq"] == cursor + 1, (cursor, frame)
                cursor = frame["seq"]
                pushed.append((cursor, base64.b64decode(frame["message"])))
                if until is not None and cursor >= until:
                    return
    except SEND_FAILURES:
        return  # the relay was killed


async def fetch_log(client: RelayClient) -> tuple[list[tuple[int, bytes]], int]:
    """The whole group log as (seq, payload) pairs, and the group's last_seq."""
    log: list[tuple[int, bytes]] = []
    last_seq = 0
    while True:
        after = log[-1][0] if log else 0
        status, body = await client.get(f"/v1/groups/{GROUP.hex()}/messages?after={after}")
        assert status == 200, body
        last_seq = body["last_seq"]
        page = [(m["seq"], base64.b64decode(m["message"])) for m in body["messages"]]
        if not page:
            return log, last_seq
        log.extend(page)


def check_crash_image(relay: RelayProcess, scratch: Path) -> None:
    """The database as the kill left it (with its WAL, before any recovery) is sound."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir()
    for name in ("relay.sqlite3", "relay.sqlite3-wal"):
        if (relay.data_dir / name).exists():
            shutil.copy(relay.data_dir / name, scratch / name)
    assert integrity_check(scratch / "relay.sqlite3") == "ok"


async def test_acknowledged_messages_survive_kill_9(tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    root = root_key()
    ledger = Ledger()
    with relay_process(tmp_path, root.public_key, TEST_LIMITS) as relay:
        endpoint = RelayEndpoint(relay.url, root, aiohttp.ClientSession(timeout=REQUEST_TIMEOUT))
        try:
            *clients, reader = await group_of(
                endpoint, *(f"device{i}" for i in range(DEVICES)), "reader"
            )
            base_seq = len(clients)  # the commits that added the other devices
            pushed: list[tuple[int, bytes]] = []
            for round_number in range(ROUNDS):
                if round_number:
                    relay.start()
                    await endpoint.http.close()  # pooled connections died with the relay
                    endpoint.http = aiohttp.ClientSession(timeout=REQUEST_TIMEOUT)
                    endpoint.url = relay.url
                senders = asyncio.gather(
                    follow(endpoint, reader, pushed),
                    *(device_round(c, ledger, rng, resend_acked=2) for c in clients),
                )
                await asyncio.sleep(rng.uniform(0.02, 0.25))
                relay.kill()
                async with asyncio.timeout(15):
                    await senders
                check_crash_image(relay, tmp_path / "crash-image")

            relay.start()
            await endpoint.http.close()
            endpoint.http = aiohttp.ClientSession(timeout=REQUEST_TIMEOUT)
            endpoint.url = relay.url
            for client in clients:  # resend everything unacknowledged, and some acknowledged
                unacked = list(ledger.unacked.get(client.id, {}))
                mine = [cid for cid in ledger.acked if ledger.sender[cid] == client.id]
                for client_id in unacked + rng.sample(mine, min(5, len(mine))):
                    status, body = await client.send(
                        GROUP, ledger.payloads[client_id], client_message_id=client_id
                    )
                    ledger.record(client_id, status, body)
            log, last_seq = await fetch_log(clients[0])
            async with asyncio.timeout(15):
                await follow(endpoint, reader, pushed, until=last_seq)
        finally:
            await endpoint.http.close()
        assert relay.terminate() == 0
    assert integrity_check(relay.data_dir / "relay.sqlite3") == "ok"

    context = (
        f"seed {seed}: {len(ledger.acked)} acknowledged, {ledger.lost_acks} lost acks,"
        f" {ledger.acked_resends} acknowledged resends, {ledger.failed_sends} failed sends"
    )
    assert not any(ledger.unacked.values()), context
    seqs = [seq for seq, _ in log]
    assert seqs == list(range(1, last_seq + 1)), f"gap or disorder; {context}"
    assert last_seq == base_seq + len(ledger.payloads), context
    stored = Counter(payload for _, payload in log)
    by_payload = {payload: seq for seq, payload in log}
    for client_id, payload in ledger.payloads.items():
        assert stored[payload] == 1, f"{client_id} stored {stored[payload]} times; {context}"
        assert by_payload[payload] == ledger.acked[client_id], f"{client_id} moved; {context}"
    assert pushed == log, f"pushes differ from the log; {context}"
    assert len(ledger.acked) > ROUNDS * DEVICES, f"too little load to mean much; {context}"
    assert ledger.acked_resends >= ROUNDS, context
    assert relay.starts >= ROUNDS + 1


# --- F2: lost acknowledgements --------------------------------------------------------


def raw_send(relay: Relay, client: RelayClient, client_id: str, message: bytes) -> bytes:
    body = (
        b'{"client_message_id": "' + client_id.encode() + b'", "message": "'
        + b64(message).encode() + b'"}'
    )  # fmt: skip
    return (
        f"POST /v1/groups/{GROUP.hex()}/messages HTTP/1.1\r\nHost: relay\r\n"
        f"Authorization: Bearer {client.token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def open_raw(relay: Relay) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = relay.url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def test_lost_ack_resend_returns_the_original_seq(relay: Relay) -> None:
    alice, _ = await group_of(relay, "alice", "bob")
    assert alice.mls.group is not None
    note = alice.mls.group.protect(b"ack lost on the way back", alice.mls.rng)
    reader, writer = await open_raw(relay)
    try:
        writer.write(raw_send(relay, alice, "lost-ack-1", note))
        await writer.drain()
        async with asyncio.timeout(5):  # the relay answered: it had stored the message
            answer = await reader.readuntil(b"}")
    finally:
        writer.transport.abort()  # ... and the device never saw the answer
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert b" 201 " in head.split(b"\r\n", 1)[0]
    lost = json.loads(payload)
    status, body = await alice.send(GROUP, note, client_message_id="lost-ack-1")
    assert (status, body) == (200, {**lost, "duplicate": True})
    _, fetched = await alice.get(f"/v1/groups/{GROUP.hex()}/messages")
    assert [base64.b64decode(m["message"]) for m in fetched["messages"]].count(note) == 1


async def test_device_vanishing_mid_request_leaves_one_copy(relay: Relay) -> None:
    alice, _ = await group_of(relay, "alice", "bob")
    assert alice.mls.group is not None
    notes = {}
    for attempt in range(8):  # cut at different points of the request
        client_id = f"vanish-{attempt}"
        notes[client_id] = alice.mls.group.protect(f"n{attempt}".encode(), alice.mls.rng)
        request = raw_send(relay, alice, client_id, notes[client_id])
        _, writer = await open_raw(relay)
        writer.write(request[: len(request) - attempt * 20] if attempt < 4 else request)
        await writer.drain()
        if attempt >= 4:
            await asyncio.sleep(0.001 * (attempt - 4))
        writer.transport.abort()
    for client_id, note in notes.items():
        status, body = await alice.send(GROUP, note, client_message_id=client_id)
        assert status in (200, 201), body
    _, fetched = await alice.get(f"/v1/groups/{GROUP.hex()}/messages")
    stored = Counter(base64.b64decode(m["message"]) for m in fetched["messages"])
    assert all(stored[note] == 1 for note in notes.values())
    seqs = [m["seq"] for m in fetched["messages"]]
    assert seqs == list(range(1, len(seqs) + 1))
