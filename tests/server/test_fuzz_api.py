"""Property-based fuzzing of the whole HTTP API against docs/api/openapi.yaml.

schemathesis reads the OpenAPI document, generates requests for every operation — valid
ones and ones that break the schema — sends them to a real relay process on 127.0.0.1 and
checks each answer: never a 5xx, a status the document lists for the operation, a content
type and a body that match the document, 405 with ``Allow`` for a method a path lacks.
Every operation is fuzzed three ways: without credentials; with the session token of a
device that sits in a real group (a coordinator's device, so the coordinator's routes are
reached too); and with that token aimed at a group, device, member, blob and enrolment
request that exist, so the handlers past the login and the lookups are reached too. The
examples are derandomized, so a run is repeatable, and few, so it stays short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from protocol.mls.framing import MLSMessage
from tests.server.handlers.test_groups import GROUP, group_of
from tests.server.relay import TEST_LIMITS, RelayEndpoint, b64, root_key
from tests.server.relay_process import RelayProcess, relay_process

Case = schemathesis.Case[Any]
DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.yaml"
MAX_EXAMPLES = 50


@dataclass(frozen=True)
class LiveRelay:
    process: RelayProcess
    token: str  # alice's session (her device has the coordinator role)
    known: dict[str, str]  # path parameters that name things that exist


async def _populate(url: str) -> tuple[str, dict[str, str]]:
    """Alice and Bob in a real group, a stored blob, a KeyPackage of Bob's to claim, a
    pending enrolment request."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        relay = RelayEndpoint(url, root_key(), http)
        alice, bob = await group_of(relay, "alice", "bob", coordinators=("alice",))
        invite = "1e" * 16
        status, body = await relay.post(
            "/v1/enrolments",
            {"invite_id": invite, "device_id": "de" * 16, "request": b64(b"keys and MAC")},
        )
        assert status == 201, body
        status, body = await bob.post(
            "/v1/key-packages",
            {"last_resort": b64(MLSMessage(body=bob.mls.key_package()).to_bytes())},
        )
        assert status == 201, body
        status, body = await alice.post(f"/v1/groups/{GROUP.hex()}/blobs", {"size": 4})
        assert status == 201, body
        blob = body["blob_id"]
        status, body = await alice.relay.request(
            "PUT", f"/v1/blobs/{blob}?offset=0", token=alice.token, data=b"blob",
            headers={"Content-Type": "application/octet-stream"},
        )  # fmt: skip
        assert status == 200, body
        assert (await alice.post(f"/v1/blobs/{blob}/complete", {}))[0] == 200
        known = {
            "group_id": GROUP.hex(),
            "device_id": bob.id,
            "member_id": bob.member_id.hex(),
            "blob_id": blob,
            "invite_id": invite,
        }
        return alice.token, known


@pytest.fixture(scope="module")
def live_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRelay]:
    work = tmp_path_factory.mktemp("fuzzed-relay")
    with relay_process(work, root_key().public_key, TEST_LIMITS) as process:
        token, known = asyncio.run(_populate(process.url))
        yield LiveRelay(process, token, known)
        assert "Traceback" not in process.tail(1_000_000)


schema = schemathesis.openapi.from_path(DOCUMENT)
schema.config.update(request_timeout=10)
# Unknown query parameters are ignored, as HTTP APIs commonly do; the document cannot
# forbid them, so a request carrying one is not "schema-violating".
schema.config.generation.update(max_examples=MAX_EXAMPLES, allow_extra_parameters=False)
# Every other check runs (no 5xx, documented status, content type, headers and body schema,
# schema-violating requests refused, 405 with Allow, ...). Not this one: a request the
# schema allows is still refused when it fails what no schema can say — a signature by the
# platform root, a decodable MLSMessage of the right group and epoch, a range with
# end >= start, an existing device.
schema.config.checks.update(excluded_check_names=["positive_data_acceptance"])

FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_without_credentials(case: Case, live_relay: LiveRelay) -> None:
    """No token, or whatever the fuzzer puts in the Authorization header."""
    case.call_and_validate(base_url=live_relay.process.url)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_with_a_session_token(case: Case, live_relay: LiveRelay) -> None:
    case.call_and_validate(base_url=live_relay.process.url, headers=bearer(live_relay))


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_on_things_that_exist(case: Case, live_relay: LiveRelay) -> None:
    """Schema-valid requests aimed at the real group, device, member and blob, so that the
    handlers past the lookups are fuzzed too."""
    if case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE:
        case.path_parameters = {
            name: live_relay.known.get(name, value) for name, value in case.path_parameters.items()
        }
    case.call_and_validate(base_url=live_relay.process.url, headers=bearer(live_relay))


def bearer(live_relay: LiveRelay) -> dict[str, str]:
    return {"Authorization": f"Bearer {live_relay.token}"}
