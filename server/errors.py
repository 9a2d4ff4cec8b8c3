"""Errors the relay answers with: each has a stable ``code`` and the HTTP status it maps to.

They extend the one hierarchy of :mod:`crypto.errors`, so the error middleware turns every
deliberate refusal — the relay's own, and the protocol decoder's — into the same JSON body
``{"error": CODE, "detail": ...}``. Details describe the request, never its payload.
"""

from __future__ import annotations

from typing import Any, ClassVar

from crypto.errors import CasecircleError


class RelayError(CasecircleError):
    """A request the relay refuses; ``status`` is a 4xx (or 503 when it is full)."""

    code: ClassVar[str] = "bad_request"
    status: ClassVar[int] = 400

    def extra(self) -> dict[str, Any]:
        """Fields added to the error body beside ``error`` and ``detail``."""
        return {}


class BadRequestError(RelayError):
    code = "bad_request"


class MalformedJsonError(RelayError):
    code = "malformed_json"


class UnauthorizedError(RelayError):
    code = "unauthorized"
    status = 401


class SessionExpiredError(UnauthorizedError):
    code = "session_expired"


class ChallengeError(UnauthorizedError):
    """The login challenge is unknown, already used, or out of its time window."""

    code = "bad_challenge"


class DeviceRefusedError(UnauthorizedError):
    """The device is unknown, outside its credential's validity, or revoked."""

    code = "device_refused"


class ForbiddenError(RelayError):
    code = "forbidden"
    status = 403


class NotOnRosterError(ForbiddenError):
    code = "not_on_roster"


class NotFoundError(RelayError):
    code = "not_found"
    status = 404


class ConflictError(RelayError):
    code = "conflict"
    status = 409


class StaleEpochError(ConflictError):
    """A handshake or message for an epoch the group is no longer (or not yet) at."""

    code = "stale_epoch"

    def __init__(self, epoch: int) -> None:
        super().__init__(f"the group is at epoch {epoch}")
        self.epoch = epoch

    def extra(self) -> dict[str, Any]:
        return {"epoch": self.epoch}


class TooLargeError(RelayError):
    code = "too_large"
    status = 413


class QuotaExceededError(TooLargeError):
    code = "quota_exceeded"


class UnsupportedMediaError(RelayError):
    code = "unsupported_media_type"
    status = 415


class RateLimitedError(RelayError):
    code = "rate_limited"
    status = 429


class RequestTimeoutError(RelayError):
    code = "request_timeout"
    status = 408


class OverloadedError(RelayError):
    """The relay is at a global capacity bound; the client should retry later."""

    code = "overloaded"
    status = 503


class UnknownDeviceError(BadRequestError):
    """A request names a device the directory does not have (or has revoked)."""

    code = "unknown_device"


class StorageUnavailableError(RelayError):
    """The write could not be made durable (disk full, I/O error); nothing was stored."""

    code = "storage_unavailable"
    status = 503
