"""The directory: coordinator-signed credentials and revocations, and KeyPackages.

Publishing is open to anyone holding a statement the platform root signed: the relay
checks the signature against the root it was started with (so that it stores no junk),
appends the statement to the transparency log in the same transaction (where an enrolment
request for the credential's invite and device becomes approved too), and answers with
the log index. Clients never rely on the relay's check; they verify the statement and its
inclusion proof themselves.
"""

from __future__ import annotations

import time
from typing import TypeVar

from aiohttp import web

from protocol.codec import Struct
from protocol.directory import (
    LogEntry,
    SignedDeviceCredential,
    SignedRevocation,
    verify_device_credential,
    verify_revocation,
)
from protocol.errors import DecodeError
from protocol.mls.constants import WireFormat
from protocol.mls.key_package import KeyPackage
from server.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnknownDeviceError,
)
from server.keys import CONFIG, DEVICE, STORAGE, TRANSLOG
from server.middlewares import public
from server.mls_header import UndecodableMessageError, require_wire_format
from server.storage.interface import DeviceRecord, NewDevice
from server.wire import b64, b64_bytes, path_id, read_json

routes = web.RouteTableDef()

S = TypeVar("S", bound=Struct)

MAX_STATEMENT = 4096
MAX_KEY_PACKAGE = 64 * 1024


class NoPlatformRootError(ConflictError):
    code = "no_platform_root"


def _root(request: web.Request) -> bytes:
    root = request.app[CONFIG].root_public_key
    if root is None:
        raise NoPlatformRootError("the relay was started without a platform root key")
    return root


def _decode(decoder: type[S], data: bytes) -> S:
    try:
        return decoder.from_bytes(data)
    except (DecodeError, ValueError):
        raise UndecodableMessageError(f"not a {decoder.__name__}") from None


def _device_json(request: web.Request, device: DeviceRecord) -> dict[str, object]:
    translog = request.app[TRANSLOG]
    head = translog.tree_head(int(time.time()))
    proof = translog.inclusion(device.log_index, head.tree_head.tree_size)
    return {
        "device_id": device.device_id.hex(),
        "member_id": device.member_id.hex(),
        "credential": b64(device.credential),
        "log_index": device.log_index,
        "revoked": device.revoked_at is not None,
        "revocation_index": device.revocation_index,
        "tree_head": b64(head.to_bytes()),
        "inclusion_proof": b64(proof.to_bytes()),
    }


@routes.post("/v1/directory/credentials")
@public
async def publish_credential(request: web.Request) -> web.Response:
    limits = request.app[CONFIG].limits
    body = await read_json(request, limits.max_json_body, limits.body_timeout)
    raw = b64_bytes(body, "credential", MAX_STATEMENT)
    signed = _decode(SignedDeviceCredential, raw)
    now = int(time.time())
    credential = verify_device_credential(_root(request), signed, now=now)
    index = await request.app[STORAGE].publish_credential(
        NewDevice(
            device_id=credential.device_id,
            member_id=credential.member_id,
            cipher_suite=credential.cipher_suite,
            signature_key=credential.signature_key,
            not_before=credential.not_before,
            not_after=credential.not_after,
            credential=signed.to_bytes(),
            invite_id=credential.invite_id,
            leaf=LogEntry(statement=signed).to_bytes(),
        ),
        now,
    )
    return web.json_response({"log_index": index}, status=201)


@routes.post("/v1/directory/revocations")
@public
async def publish_revocation(request: web.Request) -> web.Response:
    limits = request.app[CONFIG].limits
    body = await read_json(request, limits.max_json_body, limits.body_timeout)
    signed = _decode(SignedRevocation, b64_bytes(body, "revocation", MAX_STATEMENT))
    revocation = verify_revocation(_root(request), signed)
    index = await request.app[STORAGE].revoke_device(
        revocation.device_id, LogEntry(statement=signed).to_bytes(), int(time.time())
    )
    return web.json_response({"log_index": index}, status=201)


@routes.get("/v1/directory/devices/{device_id}")
async def get_device(request: web.Request) -> web.Response:
    device = await request.app[STORAGE].device(path_id(request, "device_id"))
    if device is None:
        raise NotFoundError("no such device")
    return web.json_response(_device_json(request, device))


@routes.get("/v1/directory/members/{member_id}/devices")
async def member_devices(request: web.Request) -> web.Response:
    devices = await request.app[STORAGE].member_devices(path_id(request, "member_id"))
    return web.json_response({"devices": [_device_json(request, d) for d in devices]})


def _key_package(data: bytes, device: DeviceRecord) -> bytes:
    body = require_wire_format(data, WireFormat.MLS_KEY_PACKAGE).body
    if not isinstance(body, KeyPackage):  # pragma: no cover - require_wire_format checked it
        raise BadRequestError("not a KeyPackage")
    if body.cipher_suite != device.cipher_suite:
        raise BadRequestError("the KeyPackage is for another cipher suite than the device's")
    if body.leaf_node.signature_key != device.signature_key:
        raise BadRequestError("the KeyPackage carries another signature key than the device's")
    return data


@routes.post("/v1/key-packages")
async def upload_key_packages(request: web.Request) -> web.Response:
    limits = request.app[CONFIG].limits
    device = request[DEVICE]
    body = await read_json(request, limits.max_json_body, limits.body_timeout)
    packages = body.get("key_packages", [])
    if not isinstance(packages, list) or len(packages) > limits.max_key_packages:
        raise BadRequestError(f"key_packages is a list of at most {limits.max_key_packages}")
    one_time = [
        _key_package(b64_bytes({"key_package": item}, "key_package", MAX_KEY_PACKAGE), device)
        for item in packages
    ]
    last_resort = None
    if body.get("last_resort") is not None:
        last_resort = _key_package(b64_bytes(body, "last_resort", MAX_KEY_PACKAGE), device)
    if not one_time and last_resort is None:
        raise BadRequestError("nothing to upload")
    stored = await request.app[STORAGE].store_key_packages(
        device.device_id, one_time, last_resort, limits.max_key_packages
    )
    return web.json_response({"stored": stored}, status=201)


@routes.post("/v1/directory/devices/{device_id}/key-packages/claim")
async def claim_key_package(request: web.Request) -> web.Response:
    target = path_id(request, "device_id")
    if target == request[DEVICE].device_id:
        raise ForbiddenError("a device claims KeyPackages of other devices")
    storage = request.app[STORAGE]
    device = await storage.device(target)
    if device is None or not device.usable_at(int(time.time())):
        raise UnknownDeviceError("the device is unknown, expired or revoked")
    claimed = await storage.claim_key_package(target)
    if claimed is None:
        raise NotFoundError("the device has no KeyPackage")
    package, last_resort = claimed
    return web.json_response({"key_package": b64(package), "last_resort": last_resort})
