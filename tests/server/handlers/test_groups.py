"""Groups and delivery against a real relay: commit ordering, idempotency, roster, inbox."""

from __future__ import annotations

import base64

import pytest

from protocol.mls.events import ApplicationMessage
from server.keys import STORAGE
from server.storage.interface import StoredMessage
from tests.protocol.mls.group_devices import NOW
from tests.server.relay import Relay, RelayClient, RelayEndpoint, b64

pytestmark = pytest.mark.asyncio

GROUP = bytes.fromhex("c0ffee00" * 4)


async def group_of(
    relay: RelayEndpoint, *names: str, coordinators: tuple[str, ...] = ()
) -> list[RelayClient]:
    """A group created by the first device, the others added by real MLS commits; the
    devices named in ``coordinators`` have credentials of the coordinator role."""
    clients = [
        await (relay.enrol_coordinator(name) if name in coordinators else relay.enrol(name))
        for name in names
    ]
    creator = clients[0]
    creator.mls.create_group(GROUP)
    status, body = await creator.post("/v1/groups", {"group_id": GROUP.hex()})
    assert status == 201, body
    for joiner in clients[1:]:
        package = joiner.mls.key_package()
        group = creator.mls.group
        assert group is not None
        pending = group.commit(creator.mls.rng, NOW, add=(package,))
        assert pending.welcome is not None
        status, body = await creator.send(
            GROUP,
            pending.message,
            roster_add=[joiner.id],
            welcome={"message": b64(pending.welcome), "recipients": [joiner.id]},
        )
        assert status == 201, body
        group.merge_pending()
        for other in clients[1 : clients.index(joiner)]:
            assert other.mls.group is not None
            processed = other.mls.group.process(pending.message, NOW)
            assert processed.staged is not None
            other.mls.group.merge(processed.staged)
        joiner.mls.join(pending.welcome, package)
    return clients


async def test_create_send_fetch(relay: Relay) -> None:
    alice, bob = await group_of(relay, "alice", "bob")
    assert alice.mls.group is not None
    note = alice.mls.group.protect(b"case note", alice.mls.rng)
    status, body = await alice.send(GROUP, note)
    assert (status, body["seq"], body["epoch"]) == (201, 2, 1)
    status, body = await bob.get(f"/v1/groups/{GROUP.hex()}/messages?after=1")
    assert status == 200
    assert [m["seq"] for m in body["messages"]] == [2]
    assert base64.b64decode(body["messages"][0]["message"]) == note
    assert bob.mls.group is not None
    processed = bob.mls.group.process(note, NOW)
    (event,) = processed.events
    assert isinstance(event, ApplicationMessage)
    assert event.data == b"case note"


async def test_a_fetch_never_announces_a_head_below_what_it_delivers(
    relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await group_of(relay, "alice", "bob")
    group = alice.mls.group
    assert group is not None
    storage = relay.app[STORAGE]
    read_messages = storage.messages

    async def a_send_lands_first(group_id: bytes, after: int, limit: int) -> list[StoredMessage]:
        status, _ = await alice.send(GROUP, group.protect(b"late", alice.mls.rng))
        assert status == 201
        return await read_messages(group_id, after, limit)

    monkeypatch.setattr(storage, "messages", a_send_lands_first)
    status, body = await bob.get(f"/v1/groups/{GROUP.hex()}/messages?after=1")
    assert status == 200
    assert [m["seq"] for m in body["messages"]] == [2]
    assert body["last_seq"] == 2


async def test_welcome_lands_in_the_inbox(relay: Relay) -> None:
    _, bob = await group_of(relay, "alice", "bob")
    status, body = await bob.get("/v1/inbox")
    assert status == 200
    assert [item["group_id"] for item in body["items"]] == [GROUP.hex()]
    status, body = await bob.get(f"/v1/inbox?after={body['items'][0]['id']}")
    assert body["items"] == []


async def test_stale_commit_gets_409_with_the_current_epoch(relay: Relay) -> None:
    alice, bob = await group_of(relay, "alice", "bob")
    assert alice.mls.group is not None and bob.mls.group is not None
    first = alice.mls.group.commit(alice.mls.rng, NOW)
    second = bob.mls.group.commit(bob.mls.rng, NOW)
    status, body = await alice.send(GROUP, first.message)
    assert (status, body["epoch"]) == (201, 2)
    status, body = await bob.send(GROUP, second.message)
    assert status == 409
    assert body == {"error": "stale_epoch", "detail": body["detail"], "epoch": 2}


async def test_application_message_of_an_old_epoch_is_refused(relay: Relay) -> None:
    alice, bob = await group_of(relay, "alice", "bob")
    assert bob.mls.group is not None and alice.mls.group is not None
    old_note = bob.mls.group.protect(b"late", bob.mls.rng)
    commit = alice.mls.group.commit(alice.mls.rng, NOW)
    assert (await alice.send(GROUP, commit.message))[0] == 201
    status, body = await bob.send(GROUP, old_note)
    assert (status, body["error"], body["epoch"]) == (409, "stale_epoch", 2)


async def test_resend_returns_the_original_seq(relay: Relay) -> None:
    alice, _ = await group_of(relay, "alice", "bob")
    assert alice.mls.group is not None
    note = alice.mls.group.protect(b"once", alice.mls.rng)
    first = await alice.send(GROUP, note, client_message_id="note-1")
    again = await alice.send(GROUP, note, client_message_id="note-1")
    assert first[0] == 201 and again[0] == 200
    assert again[1]["seq"] == first[1]["seq"] and again[1]["duplicate"] is True
    _, body = await alice.get(f"/v1/groups/{GROUP.hex()}/messages")
    assert [m["seq"] for m in body["messages"]] == [1, 2]


async def test_resend_of_a_commit_after_the_epoch_moved_still_dedups(relay: Relay) -> None:
    alice, _ = await group_of(relay, "alice", "bob")
    assert alice.mls.group is not None
    commit = alice.mls.group.commit(alice.mls.rng, NOW)
    first = await alice.send(GROUP, commit.message, client_message_id="c-1")
    again = await alice.send(GROUP, commit.message, client_message_id="c-1")
    assert again[0] == 200 and again[1]["seq"] == first[1]["seq"]


async def test_device_off_the_roster_gets_403(relay: Relay) -> None:
    alice, _ = await group_of(relay, "alice", "bob")
    mallory = await relay.enrol("mallory")
    assert alice.mls.group is not None
    note = alice.mls.group.protect(b"x", alice.mls.rng)
    status, body = await mallory.send(GROUP, note)
    assert (status, body["error"]) == (403, "not_on_roster")
    status, body = await mallory.get(f"/v1/groups/{GROUP.hex()}/messages")
    assert (status, body["error"]) == (403, "not_on_roster")


async def test_message_for_another_group_is_refused(relay: Relay) -> None:
    alice, _ = await group_of(relay, "alice", "bob")
    other = bytes.fromhex("aa" * 16)
    assert (await alice.post("/v1/groups", {"group_id": other.hex()}))[0] == 201
    assert alice.mls.group is not None
    note = alice.mls.group.protect(b"x", alice.mls.rng)
    status, body = await alice.send(other, note)
    assert (status, body["error"]) == (400, "wrong_group")


async def test_unknown_group_is_404(relay: Relay) -> None:
    alice = await relay.enrol("alice")
    status, body = await alice.get(f"/v1/groups/{'ab' * 16}/messages")
    assert (status, body["error"]) == (404, "not_found")


async def test_removed_device_reads_up_to_its_removal_only(relay: Relay) -> None:
    alice, bob = await group_of(relay, "alice", "bob")
    assert alice.mls.group is not None
    bob_leaf = 1
    commit = alice.mls.group.commit(alice.mls.rng, NOW, remove=(bob_leaf,))
    status, body = await alice.send(GROUP, commit.message, roster_remove=[bob.id])
    assert status == 201
    removal_seq = body["seq"]
    alice.mls.group.merge_pending()
    note = alice.mls.group.protect(b"after removal", alice.mls.rng)
    assert (await alice.send(GROUP, note))[0] == 201
    status, body = await bob.get(f"/v1/groups/{GROUP.hex()}/messages")
    assert status == 200
    assert [m["seq"] for m in body["messages"]] == [1, removal_seq]
    assert bob.mls.group is not None
    status, body = await bob.send(GROUP, bob.mls.group.protect(b"still here?", bob.mls.rng))
    assert (status, body["error"]) == (403, "not_on_roster")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "bad_request"),
        ({"client_message_id": "a", "message": "!!"}, "bad_request"),
        ({"client_message_id": "a", "message": b64(b"\x00\x01garbage")}, "decode"),
        ({"client_message_id": "", "message": b64(b"x")}, "bad_request"),
        ({"client_message_id": 5, "message": b64(b"x")}, "bad_request"),
    ],
)
async def test_bad_send_bodies(relay: Relay, body: dict[str, object], code: str) -> None:
    alice, _ = await group_of(relay, "alice", "bob")
    status, answer = await alice.post(f"/v1/groups/{GROUP.hex()}/messages", body)
    assert (status, answer["error"]) == (400, code)


async def test_roster_changes_need_a_commit(relay: Relay) -> None:
    alice, bob = await group_of(relay, "alice", "bob")
    assert alice.mls.group is not None
    note = alice.mls.group.protect(b"x", alice.mls.rng)
    status, body = await alice.send(GROUP, note, roster_remove=[bob.id])
    assert (status, body["error"]) == (400, "bad_request")


async def test_welcome_must_be_a_welcome(relay: Relay) -> None:
    alice, bob = await group_of(relay, "alice", "bob")
    assert alice.mls.group is not None
    commit = alice.mls.group.commit(alice.mls.rng, NOW)
    status, body = await alice.send(
        GROUP, commit.message, welcome={"message": b64(commit.message), "recipients": [bob.id]}
    )
    assert (status, body["error"]) == (400, "wrong_wire_format")


async def test_list_and_show_groups(relay: Relay) -> None:
    alice, bob = await group_of(relay, "alice", "bob")
    status, body = await bob.get("/v1/groups")
    assert body["groups"] == [{"group_id": GROUP.hex(), "epoch": 1, "last_seq": 1}]
    status, body = await alice.get(f"/v1/groups/{GROUP.hex()}")
    assert status == 200
    assert sorted(body["roster"]) == sorted([alice.id, bob.id])


async def test_duplicate_group_is_409(relay: Relay) -> None:
    alice = await relay.enrol("alice")
    assert (await alice.post("/v1/groups", {"group_id": GROUP.hex()}))[0] == 201
    status, body = await alice.post("/v1/groups", {"group_id": GROUP.hex()})
    assert (status, body["error"]) == (409, "conflict")
