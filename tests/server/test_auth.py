"""Device login (ATTACKS D2): challenge bound to the relay, one use, device checks, tokens."""

from __future__ import annotations

import base64
import hashlib

import pytest

from protocol.relay import login_message
from server.auth import Authenticator, token_hash
from server.keys import IDENTITY, STORAGE
from tests.server.relay import Relay, RelayClient, b64

pytestmark = pytest.mark.asyncio


async def challenge(relay: Relay, client: RelayClient) -> dict[str, object]:
    status, body = await relay.post("/v1/auth/challenge", {"device_id": client.id})
    assert status == 200, body
    return body  # type: ignore[no-any-return]


async def answer(relay: Relay, client: RelayClient, issued: dict[str, object], signature: bytes):
    return await relay.post(
        "/v1/auth/session",
        {"device_id": client.id, "nonce": issued["nonce"], "signature": b64(signature)},
    )


async def test_challenge_is_bound_to_the_relay_identity(relay: Relay) -> None:
    client = await relay.enrol("alice")
    issued = await challenge(relay, client)
    relay_key = relay.app[IDENTITY].public_key
    assert issued["relay_key"] == relay_key.hex()
    expected = login_message(
        relay_key,
        client.device_id,
        base64.b64decode(str(issued["nonce"])),
        int(str(issued["issued_at"])),
        int(str(issued["expires_at"])),
    )
    assert base64.b64decode(str(issued["to_sign"])) == expected


async def test_login_and_use_the_token(relay: Relay) -> None:
    client = await relay.enrol("alice")
    status, body = await client.get("/v1/groups")
    assert (status, body) == (200, {"groups": []})


async def test_only_the_token_hash_is_stored(relay: Relay) -> None:
    client = await relay.enrol("alice")
    token = base64.urlsafe_b64decode(client.token + "=")
    storage = relay.app[STORAGE]
    assert await storage.session(hashlib.sha256(token).digest()) is not None
    assert await storage.session(token) is None


async def test_replayed_answer_is_refused(relay: Relay) -> None:
    client = await relay.enrol("alice")
    issued = await challenge(relay, client)
    signature = client.mls.signing_key.sign(base64.b64decode(str(issued["to_sign"])))
    assert (await answer(relay, client, issued, signature))[0] == 200
    status, body = await answer(relay, client, issued, signature)
    assert (status, body["error"]) == (401, "bad_challenge")


async def test_wrong_signature_is_refused_and_burns_the_challenge(relay: Relay) -> None:
    client = await relay.enrol("alice")
    issued = await challenge(relay, client)
    good = client.mls.signing_key.sign(base64.b64decode(str(issued["to_sign"])))
    bad = bytes([good[0] ^ 1]) + good[1:]
    status, body = await answer(relay, client, issued, bad)
    assert (status, body["error"]) == (401, "bad_challenge")
    status, body = await answer(relay, client, issued, good)
    assert (status, body["error"]) == (401, "bad_challenge")


async def test_another_devices_key_does_not_log_in(relay: Relay) -> None:
    alice = await relay.enrol("alice")
    mallory = await relay.enrol("mallory")
    issued = await challenge(relay, alice)
    signature = mallory.mls.signing_key.sign(base64.b64decode(str(issued["to_sign"])))
    status, body = await answer(relay, alice, issued, signature)
    assert (status, body["error"]) == (401, "bad_challenge")


async def test_unknown_device_gets_no_challenge(relay: Relay) -> None:
    status, body = await relay.post("/v1/auth/challenge", {"device_id": "ab" * 16})
    assert (status, body["error"]) == (401, "device_refused")


async def test_revoked_device_is_refused_everywhere(relay: Relay) -> None:
    client = await relay.enrol("alice")
    status, _ = await relay.post(
        "/v1/directory/revocations", {"revocation": relay.revocation(client)}
    )
    assert status == 201
    status, body = await client.get("/v1/groups")
    assert status == 401
    status, body = await relay.post("/v1/auth/challenge", {"device_id": client.id})
    assert (status, body["error"]) == (401, "device_refused")


async def test_a_session_in_use_is_refused_once_its_device_is_revoked(relay: Relay) -> None:
    client = await relay.enrol("alice")
    for _ in range(2):  # the session is known to the relay's memory, not only its database
        status, _ = await client.get("/v1/groups")
        assert status == 200
    status, _ = await relay.post(
        "/v1/directory/revocations", {"revocation": relay.revocation(client)}
    )
    assert status == 201
    status, body = await client.get("/v1/groups")
    assert (status, body["error"]) == (401, "unauthorized")


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer abc", "Basic dXNlcjpwYXNz", "Bearer " + "A" * 43, "Bearer " + "é" * 43],
)
async def test_bad_tokens_are_401(relay: Relay, header: str) -> None:
    headers = {"Authorization": header} if header else {}
    status, body = await relay.request("GET", "/v1/groups", headers=headers)
    assert status == 401
    assert body["error"] == "unauthorized"


async def test_expired_session_and_challenge(relay: Relay) -> None:
    client = await relay.enrol("alice")
    storage = relay.app[STORAGE]
    authenticator = Authenticator(
        storage, b"k" * 32, challenge_ttl=10, max_challenges=10, session_ttl=60
    )
    device = await storage.device(client.device_id)
    assert device is not None
    issued = await authenticator.challenge(client.device_id, device.not_before + 1)
    signature = client.mls.signing_key.sign(authenticator.message_for(issued))
    with pytest.raises(Exception, match="expired") as info:
        await authenticator.login(client.device_id, issued.nonce, signature, issued.expires_at + 1)
    assert getattr(info.value, "code", None) == "bad_challenge"
    issued = await authenticator.challenge(client.device_id, device.not_before + 1)
    signature = client.mls.signing_key.sign(authenticator.message_for(issued))
    session = await authenticator.login(
        client.device_id, issued.nonce, signature, device.not_before + 2
    )
    bearer = base64.urlsafe_b64encode(session.token).rstrip(b"=").decode()
    assert (await authenticator.authenticate(bearer, session.expires_at)).device_id == (
        client.device_id
    )
    with pytest.raises(Exception, match="expired") as info:
        await authenticator.authenticate(bearer, session.expires_at + 1)
    assert getattr(info.value, "code", None) == "session_expired"
    assert token_hash(session.token) != session.token
