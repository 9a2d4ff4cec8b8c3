"""A real relay on 127.0.0.1 for tests, and enrolled devices that talk to it.

:func:`running_relay` starts the application with the same runner settings as
``casecircle server`` on a free port and stops it afterwards. :class:`RelayClient` is a
device with a coordinator-signed credential, logged in with a session token; it carries an
MLS :class:`~tests.protocol.mls.group_devices.Device` so tests send real MLS messages;
:meth:`RelayEndpoint.enrol_coordinator` makes one whose credential has the coordinator role.
"""

from __future__ import annotations

import base64
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from crypto.signatures import ED25519, SigningKey
from crypto.suites import cipher_suite
from protocol.directory import (
    COORDINATOR_ROLE,
    DeviceCredential,
    Revocation,
    platform_fingerprint,
    sign_device_credential,
    sign_revocation,
)
from server.app import create_app, make_runner
from server.config import Limits, RelayConfig
from server.listener import RelaySite
from tests.helpers import DeterministicRandom
from tests.protocol.mls.group_devices import Device

SUITE = cipher_suite(1)
TIMEOUT = aiohttp.ClientTimeout(total=10)

# generous rates so tests are limited only where a test means it
TEST_LIMITS = Limits(requests_per_second=1000, request_burst=1000, auth_per_minute=100_000)


def root_key(seed: str = "platform root") -> SigningKey:
    return ED25519.generate(DeterministicRandom(seed))


@dataclass
class RelayEndpoint:
    """A relay reached over HTTP, wherever it runs (in this process or another one)."""

    url: str
    root: SigningKey
    http: aiohttp.ClientSession

    async def enrol(
        self,
        name: str,
        *,
        member_id: bytes | None = None,
        role: str = "tester",
        invite_id: bytes | None = None,
    ) -> RelayClient:
        """A new device: credential issued by the root, published, logged in."""
        client = RelayClient.new(self, name, member_id=member_id, role=role, invite_id=invite_id)
        await client.publish()
        await client.login()
        return client

    async def enrol_coordinator(self, name: str = "coordinator") -> RelayClient:
        """A device of the coordinator's: its root-signed credential has the coordinator role."""
        return await self.enrol(name, role=COORDINATOR_ROLE)

    def revocation(self, client: RelayClient) -> str:
        signed = sign_revocation(
            self.root,
            Revocation(
                platform_id=platform_fingerprint(self.root.public_key),
                device_id=client.device_id,
                member_id=client.member_id,
                revoked_at=int(time.time()),
            ),
        )
        return b64(signed.to_bytes())

    async def request(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.request(method, self.url + path, headers=headers, **kwargs) as reply:
            if reply.content_type == "application/json":
                return reply.status, await reply.json()
            return reply.status, await reply.read()

    async def post(self, path: str, body: Any, *, token: str | None = None) -> tuple[int, Any]:
        return await self.request("POST", path, json=body, token=token)

    async def get(self, path: str, *, token: str | None = None) -> tuple[int, Any]:
        return await self.request("GET", path, token=token)


@dataclass
class Relay(RelayEndpoint):
    """A relay application running in this process, with its app and configuration."""

    app: web.Application
    config: RelayConfig


@dataclass
class RelayClient:
    relay: RelayEndpoint
    mls: Device
    device_id: bytes
    member_id: bytes
    credential: str
    token: str = ""
    sent: int = field(default=0)

    @classmethod
    def new(
        cls,
        relay: RelayEndpoint,
        name: str,
        *,
        member_id: bytes | None = None,
        role: str = "tester",
        invite_id: bytes | None = None,
    ) -> RelayClient:
        """A device with a root-signed credential, neither published nor logged in."""
        mls = Device(SUITE, name)
        rng = DeterministicRandom(f"ids of {name}")
        device_id = rng.random_bytes(16)
        member = member_id if member_id is not None else rng.random_bytes(16)
        now = int(time.time())
        signed = sign_device_credential(
            relay.root,
            DeviceCredential(
                platform_id=platform_fingerprint(relay.root.public_key),
                member_id=member,
                device_id=device_id,
                display_name=name,
                organisation="Test Agency",
                role=role,
                signature_key=mls.signing_key.public_key,
                cipher_suite=SUITE.suite_id,
                not_before=now - 3600,
                not_after=now + 86400,
                invite_id=invite_id if invite_id is not None else rng.random_bytes(16),
            ),
        )
        return cls(relay, mls, device_id, member, b64(signed.to_bytes()))

    async def publish(self) -> None:
        """Publish the credential (what the coordinator does once the root signed it)."""
        status, body = await self.relay.post(
            "/v1/directory/credentials", {"credential": self.credential}
        )
        assert status == 201, body

    @property
    def id(self) -> str:
        return self.device_id.hex()

    async def login(self) -> None:
        status, challenge = await self.relay.post("/v1/auth/challenge", {"device_id": self.id})
        assert status == 200, challenge
        signature = self.mls.signing_key.sign(base64.b64decode(challenge["to_sign"]))
        status, session = await self.relay.post(
            "/v1/auth/session",
            {"device_id": self.id, "nonce": challenge["nonce"], "signature": b64(signature)},
        )
        assert status == 200, session
        self.token = session["token"]

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        return await self.relay.post(path, body, token=self.token)

    async def get(self, path: str) -> tuple[int, Any]:
        return await self.relay.get(path, token=self.token)

    async def send(
        self,
        group_id: bytes,
        message: bytes,
        *,
        client_message_id: str | None = None,
        **extra: Any,
    ) -> tuple[int, Any]:
        body = {
            "client_message_id": client_message_id or str(uuid.uuid4()),
            "message": b64(message),
            **extra,
        }
        return await self.post(f"/v1/groups/{group_id.hex()}/messages", body)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@asynccontextmanager
async def running_relay(
    data_dir: Path,
    *,
    limits: Limits = TEST_LIMITS,
    root: SigningKey | None = None,
    access_log: bool = False,
) -> AsyncIterator[Relay]:
    root = root if root is not None else root_key()
    config = RelayConfig(
        data_dir=data_dir,
        host="127.0.0.1",
        port=0,
        root_public_key=root.public_key,
        access_log=access_log,
        limits=limits,
    )
    app = create_app(config)
    runner = make_runner(app)
    await runner.setup()
    try:
        site = RelaySite(runner, "127.0.0.1", 0, head_timeout=limits.header_timeout)
        await site.start()
        port = site.port
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            yield Relay(
                url=f"http://127.0.0.1:{port}", root=root, http=http, app=app, config=config
            )
    finally:
        await runner.cleanup()


def limits(**changes: Any) -> Limits:
    return dataclasses.replace(TEST_LIMITS, **changes)
