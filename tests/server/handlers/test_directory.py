"""The directory: credentials and revocations checked against the root and logged."""

from __future__ import annotations

import base64

import pytest

from protocol.directory import LogEntry, SignedDeviceCredential
from protocol.mls.framing import MLSMessage
from protocol.mls.key_package import KeyPackage
from protocol.transparency import InclusionProof, SignedTreeHead, verify_tree_head
from server.keys import IDENTITY
from tests.protocol.mls.group_devices import Device
from tests.server.relay import SUITE, Relay, RelayClient, b64, root_key

pytestmark = pytest.mark.asyncio


def mls(package: KeyPackage) -> bytes:
    return MLSMessage(body=package).to_bytes()


async def test_device_answer_carries_a_valid_inclusion_proof(relay: Relay) -> None:
    alice = await relay.enrol("alice")
    status, body = await alice.get(f"/v1/directory/devices/{alice.id}")
    assert status == 200
    assert body["credential"] == alice.credential
    signed = SignedDeviceCredential.from_bytes(base64.b64decode(body["credential"]))
    head = verify_tree_head(
        relay.app[IDENTITY].public_key,
        SignedTreeHead.from_bytes(base64.b64decode(body["tree_head"])),
    )
    proof = InclusionProof.from_bytes(base64.b64decode(body["inclusion_proof"]))
    proof.verify(LogEntry(statement=signed).leaf_hash(), head)


async def test_member_devices_lists_every_device(relay: Relay) -> None:
    first = await relay.enrol("alice laptop")
    second = await relay.enrol("alice desk", member_id=first.member_id)
    status, body = await first.get(f"/v1/directory/members/{first.member_id.hex()}/devices")
    assert status == 200
    assert [d["device_id"] for d in body["devices"]] == [first.id, second.id]


async def test_publishing_twice_logs_once(relay: Relay) -> None:
    alice = await relay.enrol("alice")
    status, body = await relay.post("/v1/directory/credentials", {"credential": alice.credential})
    assert (status, body["log_index"]) == (201, 0)
    status, head = await relay.get("/v1/log/head")
    assert head["tree_size"] == 1


async def test_credential_of_another_root_is_refused(relay: Relay) -> None:
    impostor = RelayClient.new(relay, "ghost")
    relay.root, real = root_key("another root"), relay.root
    forged = RelayClient.new(relay, "ghost")
    relay.root = real
    status, body = await relay.post("/v1/directory/credentials", {"credential": forged.credential})
    assert (status, body["error"]) == (400, "credential_signature")
    assert impostor.credential != forged.credential
    status, head = await relay.get("/v1/log/head")
    assert head["tree_size"] == 0


@pytest.mark.parametrize("value", ["", "!!", b64(b"\x00" * 10), 12])
async def test_garbage_credentials_are_400(relay: Relay, value: object) -> None:
    status, body = await relay.post("/v1/directory/credentials", {"credential": value})
    assert status in (400, 413)
    assert body["error"] in {"bad_request", "decode", "too_large"}


async def test_revocation_is_logged_once(relay: Relay) -> None:
    alice = await relay.enrol("alice")
    revocation = relay.revocation(alice)
    status, body = await relay.post("/v1/directory/revocations", {"revocation": revocation})
    assert (status, body["log_index"]) == (201, 1)
    status, body = await relay.post("/v1/directory/revocations", {"revocation": revocation})
    assert (status, body["error"]) == (409, "conflict")
    bob = await relay.enrol("bob")
    status, body = await bob.get(f"/v1/directory/devices/{alice.id}")
    assert (body["revoked"], body["revocation_index"]) == (True, 1)
    status, body = await relay.post("/v1/directory/credentials", {"credential": alice.credential})
    assert (status, body["error"]) == (409, "conflict")


async def test_unknown_device_is_404(relay: Relay) -> None:
    alice = await relay.enrol("alice")
    status, body = await alice.get(f"/v1/directory/devices/{'00' * 16}")
    assert (status, body["error"]) == (404, "not_found")
    status, body = await alice.get("/v1/directory/devices/not-hex")
    assert (status, body["error"]) == (400, "bad_request")


async def test_key_packages_are_claimed_once_and_last_resort_stays(relay: Relay) -> None:
    alice = await relay.enrol("alice")
    bob = await relay.enrol("bob")
    packages = [mls(alice.mls.key_package()) for _ in range(2)]
    last = mls(alice.mls.key_package())
    status, body = await alice.post(
        "/v1/key-packages", {"key_packages": [b64(p) for p in packages], "last_resort": b64(last)}
    )
    assert (status, body["stored"]) == (201, 2)
    claimed = []
    for _ in range(4):
        status, body = await bob.post(f"/v1/directory/devices/{alice.id}/key-packages/claim", {})
        assert status == 200
        claimed.append((base64.b64decode(body["key_package"]), body["last_resort"]))
    assert sorted(claimed[:2]) == sorted((p, False) for p in packages)
    assert claimed[2:] == [(last, True), (last, True)]


async def test_key_package_claims_need_another_device_and_a_package(relay: Relay) -> None:
    alice = await relay.enrol("alice")
    bob = await relay.enrol("bob")
    status, body = await alice.post(f"/v1/directory/devices/{alice.id}/key-packages/claim", {})
    assert (status, body["error"]) == (403, "forbidden")
    status, body = await bob.post(f"/v1/directory/devices/{alice.id}/key-packages/claim", {})
    assert (status, body["error"]) == (404, "not_found")


async def test_key_package_of_another_key_is_refused(relay: Relay) -> None:
    alice = await relay.enrol("alice")
    stranger = mls(Device(SUITE, "stranger").key_package())
    status, body = await alice.post("/v1/key-packages", {"key_packages": [b64(stranger)]})
    assert (status, body["error"]) == (400, "bad_request")
    status, body = await alice.post("/v1/key-packages", {"key_packages": [b64(b"\x00\x01\x00")]})
    assert (status, body["error"]) == (400, "decode")
    status, body = await alice.post("/v1/key-packages", {"key_packages": []})
    assert status == 400
