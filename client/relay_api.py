"""The relay's HTTP API as typed async calls (docs/api/openapi.yaml).

This module only moves bytes: nothing the relay answers is trusted here. Credentials, log
entries, tree heads and MLS messages come back as the bytes the relay sent, to be checked
by :mod:`client.directory` and the MLS engine.

Errors: a relay error body ``{"error": CODE, "detail": ...}`` becomes a :class:`RelayError`
with the relay's code (409 ``stale_epoch`` as :class:`StaleEpochError` with the epoch); a
connection failure or a 5xx becomes :class:`RelayUnavailableError`, which callers treat as
"try again later" — the outbox keeps what was not acknowledged.

Pushes: :meth:`RelayApi.open_push` opens the device's WebSocket (``GET /v1/ws``, frames
documented in ``server/handlers/ws.py``) as a :class:`PushSocket`, which sends subscriptions
and hands the relay's frames out as :class:`PushedMessage` / :class:`PushedWelcome` /
:class:`PushedError`. A pushed frame is only a hint that something is new: its payload is
not kept, because the case is then fetched from its stored cursor, the one path that
checks order and gaps.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from crypto.errors import CasecircleError
from crypto.signatures import SigningKey
from protocol.relay import login_message

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10)
MAX_UPLOAD_CHUNK = 1024 * 1024
DOWNLOAD_CHUNK = 256 * 1024
Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) as a blob travels."""
PUSH_CONNECT_TIMEOUT = 30.0  # seconds for the WebSocket upgrade, login excluded
PUSH_CLOSE_TIMEOUT = 5.0  # seconds to wait for the relay to answer our close frame
PUSH_MAX_FRAME = 4 * 1024 * 1024  # one pushed frame: a message of the largest size, base64
SUBSCRIBE_BATCH = 512  # cursors per subscribe frame: well under the relay's 64 KiB frames


class RelayError(CasecircleError):
    """The relay refused a request; ``relay_code`` is its stable error code."""

    code = "relay"

    def __init__(self, status: int, relay_code: str, detail: str, body: Mapping[str, Any]) -> None:
        super().__init__(f"relay answered {status} {relay_code}: {detail}")
        self.status = status
        self.relay_code = relay_code
        self.detail = detail
        self.body = body


class StaleEpochError(RelayError):
    """A handshake or application message for an epoch the group has left."""

    code = "stale_epoch"

    @property
    def epoch(self) -> int:
        value = self.body.get("epoch")
        return value if isinstance(value, int) else -1


class RelayUnavailableError(CasecircleError):
    """The relay could not be reached or failed (5xx): retry later, nothing was lost."""

    code = "relay_unavailable"


class RelayProtocolError(CasecircleError):
    """The relay answered something that is not the documented shape."""

    code = "relay_protocol"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(value: object) -> bytes:
    if not isinstance(value, str):
        raise RelayProtocolError("expected base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise RelayProtocolError("malformed base64 from the relay") from None


@dataclass(frozen=True, slots=True)
class SentMessage:
    seq: int
    epoch: int
    duplicate: bool


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    seq: int
    message: bytes
    received_at: int


@dataclass(frozen=True, slots=True)
class PushedMessage:
    """The relay pushed message ``seq`` of a group (its bytes are not kept: see above)."""

    group_id: bytes
    seq: int


@dataclass(frozen=True, slots=True)
class PushedWelcome:
    """The relay pushed inbox item ``item_id``, a Welcome into ``group_id``."""

    item_id: int
    group_id: bytes


@dataclass(frozen=True, slots=True)
class PushedError:
    """The relay stopped pushing a group, for the reason ``error`` (its error code)."""

    group_id: bytes
    error: str


PushFrame = PushedMessage | PushedWelcome | PushedError


def _frame_id(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise RelayProtocolError(f"pushed {what} is not hex text")
    try:
        decoded = bytes.fromhex(value)
    except ValueError:
        raise RelayProtocolError(f"pushed {what} is not hex") from None
    if not decoded:
        raise RelayProtocolError(f"pushed {what} is empty")
    return decoded


def _frame_int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RelayProtocolError(f"pushed {what} is not a non-negative integer")
    return value


def parse_push_frame(text: str) -> PushFrame | None:
    """One frame the relay pushed; ``None`` for a frame type this client does not know
    (the relay may add some), :class:`RelayProtocolError` for a malformed one."""
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise RelayProtocolError("a pushed frame is not JSON") from None
    if not isinstance(frame, dict):
        raise RelayProtocolError("a pushed frame is not an object")
    match frame.get("type"):
        case "message":
            if not isinstance(frame.get("message"), str):
                raise RelayProtocolError("a pushed message has no message")
            return PushedMessage(
                _frame_id(frame.get("group"), "group"), _frame_int(frame.get("seq"), "seq")
            )
        case "welcome":
            return PushedWelcome(
                _frame_int(frame.get("id"), "inbox id"), _frame_id(frame.get("group"), "group")
            )
        case "error":
            error = frame.get("error")
            if not isinstance(error, str):
                raise RelayProtocolError("a pushed error has no code")
            return PushedError(_frame_id(frame.get("group"), "group"), error)
        case _:
            return None


class PushSocket:
    """The device's open push WebSocket. Only one task may call :meth:`receive`."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws

    async def subscribe(self, groups: Mapping[bytes, int], inbox: int | None) -> None:
        """Ask for pushes after each cursor (and after ``inbox`` in the inbox, unless
        ``None``); sent in frames of :data:`SUBSCRIBE_BATCH` cursors."""
        items = [(group.hex(), cursor) for group, cursor in groups.items()]
        batches = [items[i : i + SUBSCRIBE_BATCH] for i in range(0, len(items), SUBSCRIBE_BATCH)]
        for index, batch in enumerate(batches or [[]]):
            frame: dict[str, object] = {"type": "subscribe", "groups": dict(batch)}
            if index == 0 and inbox is not None:
                frame["inbox"] = inbox
            try:
                await self._ws.send_str(json.dumps(frame, separators=(",", ":")))
            except (aiohttp.ClientError, ConnectionError) as exc:
                raise RelayUnavailableError("the push socket closed") from exc

    async def receive(self) -> PushFrame | None:
        """The next frame, or ``None`` once the socket is closed (by either side)."""
        while True:
            message = await self._ws.receive()
            if message.type == aiohttp.WSMsgType.TEXT:
                frame = parse_push_frame(message.data)
                if frame is not None:
                    return frame
            elif message.type == aiohttp.WSMsgType.BINARY:
                raise RelayProtocolError("the relay pushed a binary frame")
            else:  # CLOSE, CLOSING, CLOSED or ERROR: pings are answered inside receive()
                return None

    async def close(self) -> None:
        with contextlib.suppress(aiohttp.ClientError, ConnectionError, TimeoutError):
            await self._ws.close()


class RelayApi:
    """One device's (or an anonymous enrolling device's) connection to one relay."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = session
        self._token: str | None = None
        self._login: tuple[bytes, SigningKey] | None = None

    # --- plumbing -------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        data: bytes | None = None,
        params: Mapping[str, str | int] | None = None,
        auth: bool = True,
        raw: bool = False,
        progress: Progress | None = None,
    ) -> Any:
        for attempt in (1, 2):
            headers = {}
            if auth:
                if self._token is None:
                    await self.login()
                headers["Authorization"] = f"Bearer {self._token}"
            if data is not None:
                headers["Content-Type"] = "application/octet-stream"
            try:
                async with self._http.request(
                    method,
                    self.base_url + path,
                    json=json,
                    data=data,
                    params=params,
                    headers=headers,
                    timeout=REQUEST_TIMEOUT,
                ) as response:
                    if raw and response.status == 200:
                        return await _read_body(response, progress)
                    status = response.status
                    try:
                        body = await response.json(content_type=None)
                    except ValueError:
                        body = None
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise RelayUnavailableError(f"relay unreachable: {type(exc).__name__}") from exc
            if status < 300:
                return body
            error = body if isinstance(body, dict) else {}
            code = str(error.get("error", "unknown"))
            if auth and status == 401 and attempt == 1 and self._login is not None:
                self._token = None  # the session expired: log in again, once
                continue
            if status >= 500:
                raise RelayUnavailableError(f"relay failed with {status} {code}")
            detail = str(error.get("detail", ""))
            if status == 409 and code == "stale_epoch":
                raise StaleEpochError(status, code, detail, error)
            raise RelayError(status, code, detail, error)
        raise RelayUnavailableError("relay keeps refusing the session")  # pragma: no cover

    # --- public -------------------------------------------------------------------------

    async def platform(self) -> tuple[bytes | None, bytes]:
        """(platform root key or None, relay identity key), unverified."""
        body = await self._request("GET", "/v1/platform", auth=False)
        root = body.get("root_key")
        return (bytes.fromhex(root) if root else None, bytes.fromhex(body["relay_key"]))

    def use_identity(self, device_id: bytes, signing_key: SigningKey) -> None:
        self._login = (device_id, signing_key)
        self._token = None

    async def login(self) -> None:
        if self._login is None:
            raise RelayProtocolError("this connection has no device identity to log in with")
        device_id, key = self._login
        challenge = await self._request(
            "POST", "/v1/auth/challenge", json={"device_id": device_id.hex()}, auth=False
        )
        signature = key.sign(unb64(challenge["to_sign"]))
        expected = login_message(
            bytes.fromhex(challenge["relay_key"]),
            device_id,
            unb64(challenge["nonce"]),
            int(challenge["issued_at"]),
            int(challenge["expires_at"]),
        )
        if unb64(challenge["to_sign"]) != expected:
            raise RelayProtocolError("the login challenge is not the documented statement")
        session = await self._request(
            "POST",
            "/v1/auth/session",
            json={
                "device_id": device_id.hex(),
                "nonce": challenge["nonce"],
                "signature": b64(signature),
            },
            auth=False,
        )
        self._token = str(session["token"])

    async def open_push(self, *, heartbeat: float | None = None) -> PushSocket:
        """Open this device's push WebSocket with its session token, logging in again once
        if the relay refuses the token (it expired, or the relay forgot it). ``heartbeat``
        seconds between our pings finds a relay that vanished without closing the socket."""
        for attempt in (1, 2):
            if self._token is None:
                await self.login()
            try:
                async with asyncio.timeout(PUSH_CONNECT_TIMEOUT):
                    ws = await self._http.ws_connect(
                        self.base_url + "/v1/ws",
                        headers={"Authorization": f"Bearer {self._token}"},
                        heartbeat=heartbeat,
                        max_msg_size=PUSH_MAX_FRAME,
                        timeout=aiohttp.ClientWSTimeout(ws_close=PUSH_CLOSE_TIMEOUT),
                    )
            except aiohttp.WSServerHandshakeError as exc:
                if exc.status == 401 and attempt == 1 and self._login is not None:
                    self._token = None
                    continue
                if exc.status == 429 or exc.status >= 500:
                    raise RelayUnavailableError(
                        f"relay refused the push socket: {exc.status}"
                    ) from exc
                raise RelayError(exc.status, "push_refused", exc.message, {}) from exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise RelayUnavailableError(f"relay unreachable: {type(exc).__name__}") from exc
            return PushSocket(ws)
        raise RelayUnavailableError("relay keeps refusing the session")  # pragma: no cover

    # --- enrolment ----------------------------------------------------------------------

    async def request_enrolment(self, invite_id: bytes, device_id: bytes, request: bytes) -> None:
        await self._request(
            "POST",
            "/v1/enrolments",
            json={
                "invite_id": invite_id.hex(),
                "device_id": device_id.hex(),
                "request": b64(request),
            },
            auth=False,
        )

    async def enrolment_status(self, invite_id: bytes) -> str:
        body = await self._request("GET", f"/v1/enrolments/{invite_id.hex()}", auth=False)
        return str(body["status"])

    async def pending_enrolments(self) -> list[tuple[bytes, bytes, bytes, int]]:
        """(invite id, device id, request, received at) of every pending request."""
        body = await self._request("GET", "/v1/enrolments")
        items = body.get("enrolments", body.get("items", []))
        return [
            (
                bytes.fromhex(item["invite_id"]),
                bytes.fromhex(item["device_id"]),
                unb64(item["request"]),
                int(item["received_at"]),
            )
            for item in items
        ]

    async def reject_enrolment(self, invite_id: bytes) -> None:
        await self._request("POST", f"/v1/enrolments/{invite_id.hex()}/reject", json={})

    # --- directory ----------------------------------------------------------------------

    async def publish_credential(self, signed_credential: bytes) -> int:
        body = await self._request(
            "POST",
            "/v1/directory/credentials",
            json={"credential": b64(signed_credential)},
            auth=False,
        )
        return int(body["log_index"])

    async def publish_revocation(self, signed_revocation: bytes) -> int:
        body = await self._request(
            "POST",
            "/v1/directory/revocations",
            json={"revocation": b64(signed_revocation)},
            auth=False,
        )
        return int(body["log_index"])

    async def upload_key_packages(
        self, key_packages: list[bytes], last_resort: bytes | None = None
    ) -> None:
        body: dict[str, object] = {"key_packages": [b64(kp) for kp in key_packages]}
        if last_resort is not None:
            body["last_resort"] = b64(last_resort)
        await self._request("POST", "/v1/key-packages", json=body)

    async def claim_key_package(self, device_id: bytes) -> bytes:
        body = await self._request(
            "POST", f"/v1/directory/devices/{device_id.hex()}/key-packages/claim", json={}
        )
        return unb64(body["key_package"])

    # --- transparency log ---------------------------------------------------------------

    async def tree_head(self) -> bytes:
        body = await self._request("GET", "/v1/log/head", auth=False)
        return unb64(body["signed_tree_head"])

    async def log_entries(self, start: int, end: int) -> list[bytes]:
        body = await self._request(
            "GET", "/v1/log/entries", params={"start": start, "end": end}, auth=False
        )
        entries = body["entries"]
        if [entry["index"] for entry in entries] != list(range(start, start + len(entries))):
            raise RelayProtocolError("log entries out of order")
        return [unb64(entry["leaf"]) for entry in entries]

    # --- groups -------------------------------------------------------------------------

    async def create_group(self, group_id: bytes) -> None:
        await self._request("POST", "/v1/groups", json={"group_id": group_id.hex()})

    async def groups(self) -> list[tuple[bytes, int, int]]:
        body = await self._request("GET", "/v1/groups")
        return [
            (bytes.fromhex(g["group_id"]), int(g["epoch"]), int(g["last_seq"]))
            for g in body["groups"]
        ]

    async def send(
        self,
        group_id: bytes,
        client_message_id: str,
        message: bytes,
        *,
        roster_add: tuple[bytes, ...] = (),
        roster_remove: tuple[bytes, ...] = (),
        welcome: tuple[bytes, tuple[bytes, ...]] | None = None,
        leaf_indexes: Mapping[bytes, int] | None = None,
    ) -> SentMessage:
        body: dict[str, object] = {"client_message_id": client_message_id, "message": b64(message)}
        if roster_add:
            body["roster_add"] = [d.hex() for d in roster_add]
        if roster_remove:
            body["roster_remove"] = [d.hex() for d in roster_remove]
        if welcome is not None:
            body["welcome"] = {
                "message": b64(welcome[0]),
                "recipients": [d.hex() for d in welcome[1]],
            }
        if leaf_indexes:
            body["leaf_indexes"] = {d.hex(): leaf for d, leaf in leaf_indexes.items()}
        answer = await self._request("POST", f"/v1/groups/{group_id.hex()}/messages", json=body)
        return SentMessage(int(answer["seq"]), int(answer["epoch"]), bool(answer["duplicate"]))

    async def send_external(self, group_id: bytes, client_message_id: str, message: bytes) -> int:
        answer = await self._request(
            "POST",
            f"/v1/groups/{group_id.hex()}/external",
            json={"client_message_id": client_message_id, "message": b64(message)},
        )
        return int(answer["seq"])

    async def fetch(
        self, group_id: bytes, after: int, limit: int = 500
    ) -> tuple[list[FetchedMessage], int]:
        """Messages after ``after`` and the group's last sequence number."""
        body = await self._request(
            "GET",
            f"/v1/groups/{group_id.hex()}/messages",
            params={"after": after, "limit": limit},
        )
        messages = [
            FetchedMessage(int(m["seq"]), unb64(m["message"]), int(m["received_at"]))
            for m in body["messages"]
        ]
        return messages, int(body["last_seq"])

    async def inbox(self, after: int) -> list[tuple[int, bytes, bytes]]:
        """(item id, group id, Welcome) after ``after``."""
        body = await self._request("GET", "/v1/inbox", params={"after": after})
        return [
            (int(i["id"]), bytes.fromhex(i["group_id"]), unb64(i["message"])) for i in body["items"]
        ]

    async def coordinator_groups(self) -> list[tuple[bytes, int, dict[bytes, int | None]]]:
        """Every group: (id, epoch, {roster device: declared leaf index}), all pages."""
        groups: list[tuple[bytes, int, dict[bytes, int | None]]] = []
        after: str | None = None
        while True:
            params = {"after": after} if after is not None else None
            body = await self._request("GET", "/v1/coordinator/groups", params=params)
            groups.extend(
                (
                    bytes.fromhex(g["group_id"]),
                    int(g["epoch"]),
                    {bytes.fromhex(r["device_id"]): r.get("leaf_index") for r in g["roster"]},
                )
                for g in body["groups"]
            )
            after = body.get("next")
            if not after or not body["groups"]:
                return groups

    # --- blobs --------------------------------------------------------------------------

    async def upload_blob(
        self, group_id: bytes, blob: bytes, progress: Progress | None = None
    ) -> bytes:
        """Upload in chunks; ``progress(sent, total)`` after each."""
        started = await self._request(
            "POST", f"/v1/groups/{group_id.hex()}/blobs", json={"size": len(blob)}
        )
        blob_id = bytes.fromhex(started["blob_id"])
        offset = 0
        while offset < len(blob):
            chunk = blob[offset : offset + MAX_UPLOAD_CHUNK]
            await self._request(
                "PUT",
                f"/v1/blobs/{blob_id.hex()}",
                data=chunk,
                params={"offset": offset},
            )
            offset += len(chunk)
            if progress is not None:
                progress(offset, len(blob))
        await self._request("POST", f"/v1/blobs/{blob_id.hex()}/complete", json={})
        return blob_id

    async def download_blob(self, blob_id: bytes, progress: Progress | None = None) -> bytes:
        """The blob; ``progress(received, total)`` as it arrives."""
        data = await self._request("GET", f"/v1/blobs/{blob_id.hex()}", raw=True, progress=progress)
        if not isinstance(data, bytes):
            raise RelayProtocolError("blob download returned no bytes")
        return data


async def _read_body(response: aiohttp.ClientResponse, progress: Progress | None) -> bytes:
    if progress is None:
        return await response.read()
    total = response.content_length or 0
    parts = bytearray()
    async for chunk in response.content.iter_chunked(DOWNLOAD_CHUNK):
        parts += chunk
        progress(len(parts), max(total, len(parts)))
    return bytes(parts)


def now() -> int:
    return int(time.time())
