"""The coordinator's routes against a real relay: the groups view with declared MLS leaf
indexes, and external proposals (RFC 9420 §12.1.8) ordered into a group's log."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from protocol.mls.events import ProposalQueued
from protocol.mls.external_sender import external_proposal, external_senders_extension
from protocol.mls.framing import (
    ApplicationData,
    FramedContent,
    FramedContentAuthData,
    MLSMessage,
    PublicMessage,
    Sender,
)
from protocol.mls.proposals import Commit, Proposal, Remove
from tests.protocol.mls.group_devices import NOW, create_group_with
from tests.server.handlers.test_ws import connect, frames
from tests.server.relay import SUITE, Relay, RelayClient, RelayEndpoint, b64

pytestmark = pytest.mark.asyncio

GROUP = bytes.fromhex("ca5e0000" * 4)
EXTERNAL = f"/v1/groups/{GROUP.hex()}/external"
VIEW = "/v1/coordinator/groups"


async def case_of(relay: RelayEndpoint) -> tuple[RelayClient, RelayClient, RelayClient]:
    """The coordinator, and a case of alice (leaf 0) and bob (leaf 1) whose
    external_senders names the coordinator's device key; the coordinator is no member."""
    coordinator = await relay.enrol_coordinator()
    alice, bob = await relay.enrol("alice"), await relay.enrol("bob")
    extension = external_senders_extension(
        ((coordinator.mls.signing_key.public_key, coordinator.mls.credential),)
    )
    group = create_group_with(alice.mls, GROUP, (extension,))
    status, body = await alice.post("/v1/groups", {"group_id": GROUP.hex()})
    assert status == 201, body
    package = bob.mls.key_package()
    pending = group.commit(alice.mls.rng, NOW, add=(package,))
    assert pending.welcome is not None
    status, body = await alice.send(
        GROUP,
        pending.message,
        roster_add=[bob.id],
        leaf_indexes={bob.id: 1},
        welcome={"message": b64(pending.welcome), "recipients": [bob.id]},
    )
    assert status == 201, body
    group.merge_pending()
    assert bob.mls.join(pending.welcome, package).own_leaf == 1
    return coordinator, alice, bob


def removal(coordinator: RelayClient, leaf: int, epoch: int, group_id: bytes = GROUP) -> bytes:
    return external_proposal(
        SUITE, coordinator.mls.signing_key, 0, group_id, epoch, Proposal(body=Remove(removed=leaf))
    )


def public_message(sender: Sender, content: Any, *, epoch: int = 1) -> bytes:
    """A PublicMessage with whatever sender and content (the relay verifies no signature)."""
    framed = FramedContent(group_id=GROUP, epoch=epoch, sender=sender, content=content)
    tag = b"c" * 32 if isinstance(content, Commit) else None
    member = sender == Sender.member(0)
    return MLSMessage(
        body=PublicMessage(
            content=framed,
            auth=FramedContentAuthData(signature=b"s" * 64, confirmation_tag=tag),
            membership_tag=b"m" * 32 if member else None,
        )
    ).to_bytes()


def roster(*entries: tuple[RelayClient, int | None]) -> list[dict[str, object]]:
    return sorted(
        ({"device_id": client.id, "leaf_index": leaf} for client, leaf in entries),
        key=lambda entry: str(entry["device_id"]),
    )


async def post_external(client: RelayClient, message: bytes, message_id: str = "p-1") -> Any:
    return await client.post(EXTERNAL, {"client_message_id": message_id, "message": b64(message)})


# --- the groups view ----------------------------------------------------------------------


async def test_the_view_shows_each_group_its_epoch_and_declared_leaves(relay: Relay) -> None:
    coordinator, alice, bob = await case_of(relay)
    carol = await relay.enrol("carol")
    other = bytes.fromhex("ff" * 16)
    assert (await carol.post("/v1/groups", {"group_id": other.hex()}))[0] == 201
    status, body = await coordinator.get(VIEW)
    assert status == 200
    assert body == {
        "groups": [
            {"group_id": GROUP.hex(), "epoch": 1, "last_seq": 1,
             "roster": roster((alice, 0), (bob, 1))},
            {"group_id": other.hex(), "epoch": 0, "last_seq": 0, "roster": roster((carol, 0))},
        ],
        "next": None,
    }  # fmt: skip


async def test_the_view_is_paged_by_group_id(relay: Relay) -> None:
    coordinator = await relay.enrol_coordinator()
    carol = await relay.enrol("carol")
    ids = [bytes([i]) * 16 for i in (1, 2, 3)]
    for group_id in ids:
        assert (await carol.post("/v1/groups", {"group_id": group_id.hex()}))[0] == 201
    status, body = await coordinator.get(f"{VIEW}?limit=2")
    assert [g["group_id"] for g in body["groups"]] == [ids[0].hex(), ids[1].hex()]
    assert body["next"] == ids[1].hex()
    status, body = await coordinator.get(f"{VIEW}?after={body['next']}&limit=2")
    assert ([g["group_id"] for g in body["groups"]], body["next"]) == ([ids[2].hex()], None)
    status, body = await coordinator.get(f"{VIEW}?limit=0")  # at least one
    assert len(body["groups"]) == 1
    for bad in ("after=XY", "after=", "after=abc", "limit=-1", "limit=x"):
        status, body = await coordinator.get(f"{VIEW}?{bad}")
        assert (status, body["error"]) == (400, "bad_request"), bad


async def test_the_view_is_for_the_coordinator_only(relay: Relay) -> None:
    _, alice, _ = await case_of(relay)
    status, body = await alice.get(VIEW)
    assert (status, body["error"]) == (403, "not_coordinator")
    status, body = await relay.get(VIEW)
    assert (status, body["error"]) == (401, "unauthorized")


# --- leaf indexes declared with commits -----------------------------------------------------


async def test_leaf_indexes_travel_with_commits_only(relay: Relay) -> None:
    _, alice, bob = await case_of(relay)
    assert alice.mls.group is not None
    note = alice.mls.group.protect(b"note", alice.mls.rng)
    status, body = await alice.send(GROUP, note, leaf_indexes={bob.id: 1})
    assert (status, body["error"]) == (400, "bad_request")
    status, body = await alice.send(GROUP, note, leaf_indexes={})  # nothing declared: fine
    assert status == 201


async def test_leaf_indexes_must_name_devices_on_the_roster_after_the_commit(
    relay: Relay,
) -> None:
    coordinator, alice, bob = await case_of(relay)
    mallory = await relay.enrol("mallory")
    assert alice.mls.group is not None
    commit = alice.mls.group.commit(alice.mls.rng, NOW, remove=(1,))
    for declared in ({mallory.id: 2}, {bob.id: 1}):
        status, body = await alice.send(
            GROUP, commit.message, roster_remove=[bob.id], leaf_indexes=declared
        )
        assert (status, body["error"]) == (400, "leaf_index_off_roster")
    _, view = await coordinator.get(VIEW)
    assert view["groups"][0]["epoch"] == 1  # nothing of the refused commit was stored
    assert view["groups"][0]["roster"] == roster((alice, 0), (bob, 1))


@pytest.mark.parametrize(
    "declared",
    [
        [["ab" * 16, 1]],
        "x",
        {"AB" * 16: 1},
        {"zz": 1},
        {"ab" * 16: -1},
        {"ab" * 16: 2**32},
        {"ab" * 16: True},
        {"ab" * 16: "1"},
        {"ab" * 16: None},
        None,
    ],
)
async def test_malformed_leaf_indexes(relay: Relay, declared: object) -> None:
    _, alice, _ = await case_of(relay)
    assert alice.mls.group is not None
    commit = alice.mls.group.commit(alice.mls.rng, NOW)
    status, body = await alice.send(GROUP, commit.message, leaf_indexes=declared)
    assert (status, body["error"]) == (400, "bad_request")


async def test_one_leaf_declared_for_two_devices_is_refused(relay: Relay) -> None:
    _, alice, bob = await case_of(relay)
    assert alice.mls.group is not None
    commit = alice.mls.group.commit(alice.mls.rng, NOW)
    status, body = await alice.send(GROUP, commit.message, leaf_indexes={alice.id: 1, bob.id: 1})
    assert (status, body["error"]) == (400, "bad_request")


async def test_the_latest_declaration_of_a_leaf_wins(relay: Relay) -> None:
    coordinator, alice, bob = await case_of(relay)
    assert alice.mls.group is not None
    commit = alice.mls.group.commit(alice.mls.rng, NOW)
    assert (await alice.send(GROUP, commit.message, leaf_indexes={alice.id: 1}))[0] == 201
    _, view = await coordinator.get(VIEW)
    assert view["groups"][0]["roster"] == roster((alice, 1), (bob, None))


async def test_a_device_added_again_has_no_leaf_until_declared(relay: Relay) -> None:
    coordinator, alice, bob = await case_of(relay)
    group = alice.mls.group
    assert group is not None
    commit = group.commit(alice.mls.rng, NOW, remove=(1,))
    assert (await alice.send(GROUP, commit.message, roster_remove=[bob.id]))[0] == 201
    group.merge_pending()
    commit = group.commit(alice.mls.rng, NOW, add=(bob.mls.key_package(),))
    assert (await alice.send(GROUP, commit.message, roster_add=[bob.id]))[0] == 201
    _, view = await coordinator.get(VIEW)
    assert view["groups"][0]["roster"] == roster((alice, 0), (bob, None))


# --- external proposals -------------------------------------------------------------------


async def test_an_external_remove_is_ordered_delivered_and_committed(relay: Relay) -> None:
    coordinator, alice, bob = await case_of(relay)
    _, view = await coordinator.get(VIEW)
    (case,) = view["groups"]
    bob_leaf = next(e["leaf_index"] for e in case["roster"] if e["device_id"] == bob.id)
    proposal = removal(coordinator, bob_leaf, case["epoch"])

    status, body = await post_external(coordinator, proposal)
    assert (status, body) == (201, {"seq": 2, "epoch": 1, "duplicate": False})
    status, body = await post_external(coordinator, proposal)  # a resend
    assert (status, body) == (200, {"seq": 2, "epoch": 1, "duplicate": True})
    _, view = await coordinator.get(VIEW)
    assert view["groups"][0] == {**case, "last_seq": 2}  # epoch and roster unchanged
    status, body = await coordinator.get(f"/v1/groups/{GROUP.hex()}")
    assert (status, body["error"]) == (403, "not_on_roster")

    status, body = await alice.get(f"/v1/groups/{GROUP.hex()}/messages?after=1")
    (message,) = body["messages"]
    assert (message["seq"], base64.b64decode(message["message"])) == (2, proposal)
    group = alice.mls.group
    assert group is not None
    (queued,) = group.process(proposal, NOW).events
    assert isinstance(queued, ProposalQueued)
    commit = group.commit(alice.mls.rng, NOW)  # commits the queued proposal by reference
    status, body = await alice.send(GROUP, commit.message, roster_remove=[bob.id])
    assert (status, body["epoch"]) == (201, 2)
    group.merge_pending()
    _, view = await coordinator.get(VIEW)
    assert view["groups"][0]["roster"] == roster((alice, 0))


async def test_an_external_proposal_is_pushed_to_the_roster(relay: Relay) -> None:
    coordinator, _, bob = await case_of(relay)
    proposal = removal(coordinator, 1, 1)
    async with connect(relay, bob) as ws:
        await ws.send_json({"type": "subscribe", "groups": {GROUP.hex(): 1}})
        assert (await post_external(coordinator, proposal))[0] == 201
        (frame,) = await frames(ws, 1)
    assert (frame["seq"], base64.b64decode(frame["message"])) == (2, proposal)


@pytest.mark.parametrize("epoch", [0, 2, 2**64 - 1])
async def test_an_external_proposal_of_another_epoch_is_stale(relay: Relay, epoch: int) -> None:
    coordinator, _, _ = await case_of(relay)
    status, body = await post_external(coordinator, removal(coordinator, 1, epoch))
    assert status == 409
    assert body == {"error": "stale_epoch", "detail": body["detail"], "epoch": 1}


async def test_only_external_sender_proposals_are_taken(relay: Relay) -> None:
    coordinator, alice, _ = await case_of(relay)
    assert alice.mls.group is not None
    remove = Proposal(body=Remove(removed=1))
    refused = {
        "not_external_sender": public_message(Sender.member(0), remove),
        "not_proposal": public_message(Sender.external(0), Commit()),
        "wrong_wire_format": alice.mls.group.propose(remove, alice.mls.rng),
    }
    for code, message in refused.items():
        status, body = await post_external(coordinator, message)
        assert (status, body["error"]) == (400, code)
    application = public_message(Sender.external(0), ApplicationData(data=b"x"))
    status, body = await post_external(coordinator, application)
    assert (status, body["error"]) == (400, "not_proposal")
    status, body = await post_external(
        coordinator, MLSMessage(body=alice.mls.key_package()).to_bytes()
    )
    assert (status, body["error"]) == (400, "wrong_wire_format")
    _, view = await coordinator.get(VIEW)
    assert view["groups"][0]["last_seq"] == 1  # nothing was stored


async def test_an_external_proposal_names_its_group(relay: Relay) -> None:
    coordinator, alice, _ = await case_of(relay)
    other = bytes.fromhex("ab" * 16)
    assert (await alice.post("/v1/groups", {"group_id": other.hex()}))[0] == 201
    status, body = await post_external(coordinator, removal(coordinator, 1, 0, other))
    assert (status, body["error"]) == (400, "wrong_group")
    unknown = bytes.fromhex("cd" * 16)
    status, body = await coordinator.post(
        f"/v1/groups/{unknown.hex()}/external",
        {"client_message_id": "x", "message": b64(removal(coordinator, 1, 0, unknown))},
    )
    assert (status, body["error"]) == (404, "not_found")
    status, body = await coordinator.post(
        "/v1/groups/NOT-HEX/external", {"client_message_id": "x", "message": b64(b"x")}
    )
    assert (status, body["error"]) == (400, "bad_request")


async def test_a_client_message_id_serves_one_group(relay: Relay) -> None:
    coordinator, alice, _ = await case_of(relay)
    other = bytes.fromhex("ab" * 16)
    assert (await alice.post("/v1/groups", {"group_id": other.hex()}))[0] == 201
    assert (await post_external(coordinator, removal(coordinator, 1, 1), "same"))[0] == 201
    status, body = await coordinator.post(
        f"/v1/groups/{other.hex()}/external",
        {"client_message_id": "same", "message": b64(removal(coordinator, 1, 0, other))},
    )
    assert (status, body["error"]) == (409, "conflict")


async def test_external_proposals_are_for_the_coordinator_only(relay: Relay) -> None:
    coordinator, alice, _ = await case_of(relay)
    proposal = removal(coordinator, 1, 1)
    status, body = await post_external(alice, proposal)  # on the roster, yet no coordinator
    assert (status, body["error"]) == (403, "not_coordinator")
    status, body = await relay.post(EXTERNAL, {"client_message_id": "x", "message": b64(proposal)})
    assert (status, body["error"]) == (401, "unauthorized")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "bad_request"),
        ({"client_message_id": "x"}, "bad_request"),
        ({"client_message_id": "x", "message": "!!"}, "bad_request"),
        ({"client_message_id": "x", "message": ""}, "bad_request"),
        ({"client_message_id": "x", "message": b64(b"\x00\x01garbage")}, "decode"),
        ({"client_message_id": "", "message": b64(b"x")}, "bad_request"),
        ({"client_message_id": "x" * 129, "message": b64(b"x")}, "bad_request"),
        ({"client_message_id": 5, "message": b64(b"x")}, "bad_request"),
    ],
)
async def test_bad_external_bodies(relay: Relay, body: dict[str, object], code: str) -> None:
    coordinator, _, _ = await case_of(relay)
    status, answer = await coordinator.post(EXTERNAL, body)
    assert (status, answer["error"]) == (400, code)


async def test_an_oversize_external_proposal_is_413(relay: Relay) -> None:
    coordinator = await relay.enrol_coordinator()
    message = b"x" * (relay.config.limits.max_message_bytes + 1)
    status, body = await post_external(coordinator, message)
    assert (status, body["error"]) == (413, "too_large")
