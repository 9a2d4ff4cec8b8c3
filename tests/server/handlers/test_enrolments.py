"""Enrolment requests against a real relay: one request per invite, approval by the
credential's publication, rejection and listing by the coordinator only, bounds and rates."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from tests.server.relay import Relay, RelayClient, RelayEndpoint, b64, limits, running_relay

pytestmark = pytest.mark.asyncio

INVITE = bytes.fromhex("1a" * 16)
OTHER_INVITE = bytes.fromhex("2b" * 16)
REQUEST = b"public keys and a MAC under the invite code \x00\xff"


def new_device(relay: RelayEndpoint, name: str, invite_id: bytes = INVITE) -> RelayClient:
    """A device whose credential the root will sign for ``invite_id`` (not yet published)."""
    return RelayClient.new(relay, name, invite_id=invite_id)


async def ask(
    relay: RelayEndpoint,
    device: RelayClient,
    invite_id: bytes = INVITE,
    request: bytes = REQUEST,
) -> tuple[int, Any]:
    body = {"invite_id": invite_id.hex(), "device_id": device.id, "request": b64(request)}
    return await relay.post("/v1/enrolments", body)


async def test_request_is_pending_until_its_credential_is_published(relay: Relay) -> None:
    coordinator = await relay.enrol_coordinator()
    device = new_device(relay, "new laptop")
    status, body = await ask(relay, device)
    assert (status, body) == (201, {"status": "pending", "device_id": device.id})
    status, body = await relay.get(f"/v1/enrolments/{INVITE.hex()}")
    assert (status, body) == (200, {"status": "pending", "device_id": device.id})

    status, body = await coordinator.get("/v1/enrolments")
    assert status == 200
    (listed,) = body["enrolments"]
    assert listed["invite_id"] == INVITE.hex() and listed["device_id"] == device.id
    assert base64.b64decode(listed["request"]) == REQUEST
    assert isinstance(listed["received_at"], int)

    await device.publish()  # the coordinator checked the MAC and the root signed
    status, body = await relay.get(f"/v1/enrolments/{INVITE.hex()}")
    assert (status, body) == (200, {"status": "approved", "device_id": device.id})
    assert (await coordinator.get("/v1/enrolments"))[1] == {"enrolments": []}
    await device.login()  # the enrolled device is an ordinary device now


async def test_a_credential_for_another_invite_approves_nothing(relay: Relay) -> None:
    device = new_device(relay, "laptop")
    assert (await ask(relay, device, OTHER_INVITE))[0] == 201
    await device.publish()  # its credential names INVITE, not OTHER_INVITE
    status, body = await relay.get(f"/v1/enrolments/{OTHER_INVITE.hex()}")
    assert (status, body["status"]) == (200, "pending")


async def test_the_same_request_again_is_idempotent(relay: Relay) -> None:
    device = new_device(relay, "laptop")
    assert (await ask(relay, device))[0] == 201
    status, body = await ask(relay, device)
    assert (status, body) == (200, {"status": "pending", "device_id": device.id})
    await device.publish()
    status, body = await ask(relay, device)
    assert (status, body["status"]) == (200, "approved")


async def test_a_used_invite_takes_no_other_request(relay: Relay) -> None:
    device = new_device(relay, "laptop")
    assert (await ask(relay, device))[0] == 201
    status, body = await ask(relay, device, request=b"another MAC")
    assert (status, body["error"]) == (409, "invite_used")
    intruder = new_device(relay, "intruder")
    status, body = await ask(relay, intruder)
    assert (status, body["error"]) == (409, "invite_used")
    assert (await relay.get(f"/v1/enrolments/{INVITE.hex()}"))[1]["device_id"] == device.id


async def test_a_device_id_is_enrolled_once(relay: Relay) -> None:
    coordinator = await relay.enrol_coordinator()
    enrolled = await relay.enrol("enrolled")
    status, body = await ask(relay, enrolled)
    assert (status, body["error"]) == (409, "device_exists")

    pending = new_device(relay, "pending")
    assert (await ask(relay, pending))[0] == 201
    status, body = await ask(relay, pending, OTHER_INVITE)
    assert (status, body["error"]) == (409, "device_exists")

    assert (await coordinator.post(f"/v1/enrolments/{INVITE.hex()}/reject", {}))[0] == 200
    status, body = await ask(relay, pending, OTHER_INVITE)  # no longer pending elsewhere
    assert status == 201


async def test_the_coordinator_rejects(relay: Relay) -> None:
    coordinator = await relay.enrol_coordinator()
    device = new_device(relay, "laptop")
    assert (await ask(relay, device))[0] == 201
    path = f"/v1/enrolments/{INVITE.hex()}/reject"
    status, body = await coordinator.post(path, {})
    assert (status, body) == (200, {"status": "rejected", "device_id": device.id})
    assert (await relay.get(f"/v1/enrolments/{INVITE.hex()}"))[1]["status"] == "rejected"
    assert (await coordinator.get("/v1/enrolments"))[1] == {"enrolments": []}
    assert (await coordinator.post(path, {}))[0] == 200  # again: no change
    status, body = await ask(relay, device)  # the same request does not revive it
    assert (status, body["status"]) == (200, "rejected")

    status, body = await coordinator.post(f"/v1/enrolments/{OTHER_INVITE.hex()}/reject", {})
    assert (status, body["error"]) == (404, "not_found")


async def test_an_enrolled_device_cannot_be_rejected(relay: Relay) -> None:
    coordinator = await relay.enrol_coordinator()
    device = new_device(relay, "laptop")
    assert (await ask(relay, device))[0] == 201
    await device.publish()
    status, body = await coordinator.post(f"/v1/enrolments/{INVITE.hex()}/reject", {})
    assert (status, body["error"]) == (409, "enrolment_approved")


async def test_a_rejected_request_is_approved_if_the_root_signs_after_all(relay: Relay) -> None:
    coordinator = await relay.enrol_coordinator()
    device = new_device(relay, "laptop")
    assert (await ask(relay, device))[0] == 201
    assert (await coordinator.post(f"/v1/enrolments/{INVITE.hex()}/reject", {}))[0] == 200
    await device.publish()
    assert (await relay.get(f"/v1/enrolments/{INVITE.hex()}"))[1]["status"] == "approved"


async def test_only_the_coordinator_lists_and_rejects(relay: Relay) -> None:
    member = await relay.enrol("member")
    assert (await ask(relay, new_device(relay, "laptop")))[0] == 201
    status, body = await member.get("/v1/enrolments")
    assert (status, body["error"]) == (403, "not_coordinator")
    status, body = await member.post(f"/v1/enrolments/{INVITE.hex()}/reject", {})
    assert (status, body["error"]) == (403, "not_coordinator")
    assert (await relay.get(f"/v1/enrolments/{INVITE.hex()}"))[1]["status"] == "pending"

    status, body = await relay.get("/v1/enrolments")
    assert (status, body["error"]) == (401, "unauthorized")
    status, body = await relay.post(f"/v1/enrolments/{INVITE.hex()}/reject", {})
    assert (status, body["error"]) == (401, "unauthorized")
    status, body = await relay.get("/v1/enrolments", token="x" * 43)
    assert (status, body["error"]) == (401, "unauthorized")


async def test_a_revoked_coordinator_device_is_refused(relay: Relay) -> None:
    coordinator = await relay.enrol_coordinator()
    revocation = relay.revocation(coordinator)
    assert (await relay.post("/v1/directory/revocations", {"revocation": revocation}))[0] == 201
    status, body = await coordinator.get("/v1/enrolments")
    assert (status, body["error"]) == (401, "unauthorized")


GOOD = {"invite_id": INVITE.hex(), "device_id": "cd" * 16, "request": b64(REQUEST)}


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"invite_id": "1A" * 16}, 400, "bad_request"),  # uppercase
        ({"invite_id": "1a" * 15}, 400, "bad_request"),  # 15 bytes
        ({"invite_id": "1a" * 17}, 400, "bad_request"),  # 17 bytes
        ({"invite_id": "zz" * 16}, 400, "bad_request"),
        ({"invite_id": 7}, 400, "bad_request"),
        ({"invite_id": None}, 400, "bad_request"),
        ({"device_id": "cd" * 8}, 400, "bad_request"),
        ({"device_id": ""}, 400, "bad_request"),
        ({"request": "!!not base64"}, 400, "bad_request"),
        ({"request": ""}, 400, "bad_request"),
        ({"request": ["a"]}, 400, "bad_request"),
        ({"request": b64(b"x" * 4097)}, 413, "too_large"),
    ],
)
async def test_bad_requests_are_refused(
    relay: Relay, changes: dict[str, object], status: int, code: str
) -> None:
    answer = await relay.post("/v1/enrolments", {**GOOD, **changes})
    assert (answer[0], answer[1]["error"]) == (status, code)
    assert (await relay.get(f"/v1/enrolments/{INVITE.hex()}"))[0] == 404  # nothing stored


@pytest.mark.parametrize("missing", ["invite_id", "device_id", "request"])
async def test_every_field_is_required(relay: Relay, missing: str) -> None:
    body = {name: value for name, value in GOOD.items() if name != missing}
    status, answer = await relay.post("/v1/enrolments", body)
    assert (status, answer["error"]) == (400, "bad_request")


async def test_the_largest_request_and_odd_bodies(relay: Relay) -> None:
    largest = {**GOOD, "request": b64(b"x" * 4096)}
    assert (await relay.post("/v1/enrolments", largest))[0] == 201
    status, body = await relay.request(
        "POST", "/v1/enrolments", data=b"{", headers={"Content-Type": "application/json"}
    )
    assert (status, body["error"]) == (400, "malformed_json")
    status, body = await relay.request("POST", "/v1/enrolments", data=b"x")
    assert (status, body["error"]) == (400, "bad_request")
    status, body = await relay.post("/v1/enrolments", [GOOD])
    assert (status, body["error"]) == (400, "malformed_json")


@pytest.mark.parametrize("invite", ["1A" * 16, "1a" * 15, "not-hex", "1a" * 65])
async def test_bad_invite_ids_in_paths(relay: Relay, invite: str) -> None:
    coordinator = await relay.enrol_coordinator()
    status, body = await relay.get(f"/v1/enrolments/{invite}")
    assert (status, body["error"]) == (400, "bad_request")
    status, body = await coordinator.post(f"/v1/enrolments/{invite}/reject", {})
    assert (status, body["error"]) == (400, "bad_request")


async def test_unknown_invite_is_404(relay: Relay) -> None:
    status, body = await relay.get(f"/v1/enrolments/{INVITE.hex()}")
    assert (status, body["error"]) == (404, "not_found")


async def test_pending_requests_are_bounded(tmp_path: Path) -> None:
    async with running_relay(tmp_path, limits=limits(max_pending_enrolments=2)) as relay:
        coordinator = await relay.enrol_coordinator()
        invites = [bytes([i]) * 16 for i in range(3)]
        devices = [new_device(relay, f"device {i}", invite) for i, invite in enumerate(invites)]
        for device, invite in zip(devices[:2], invites, strict=False):
            assert (await ask(relay, device, invite))[0] == 201
        status, body = await ask(relay, devices[2], invites[2])
        assert (status, body["error"]) == (503, "enrolments_full")
        assert (await ask(relay, devices[0], invites[0]))[0] == 200  # a repeat still answers
        await devices[0].publish()  # approved: no longer pending
        assert (await ask(relay, devices[2], invites[2]))[0] == 201
        assert len((await coordinator.get("/v1/enrolments"))[1]["enrolments"]) == 2


async def test_requests_are_rate_limited_per_address(tmp_path: Path) -> None:
    async with running_relay(tmp_path, limits=limits(auth_per_minute=3)) as relay:
        device = new_device(relay, "laptop")
        answers = [await ask(relay, device) for _ in range(3)]
        assert [status for status, _ in answers] == [201, 200, 200]
        status, body = await relay.get(f"/v1/enrolments/{INVITE.hex()}")
        assert (status, body["error"]) == (429, "rate_limited")
        status, body = await ask(relay, device)
        assert (status, body["error"]) == (429, "rate_limited")
