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


class NotCoordinatorError(ForbiddenError):
    """A route of the coordinator's, asked for by a device the root did not certify in the
    coordinator role."""

    code = "not_coordinator"


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


class InviteUsedError(ConflictError):
    """An enrolment request for an invite that already has a different one."""

    code = "invite_used"


class DeviceExistsError(ConflictError):
    """An enrolment request for a device id that is published or already pending."""

    code = "device_exists"


class EnrolmentDecidedError(ConflictError):
    """A rejection of an enrolment whose device has been enrolled already."""

    code = "enrolment_approved"


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


class EnrolmentsFullError(OverloadedError):
    """As many enrolment requests are pending as the relay keeps; the coordinator must
    decide some first."""

    code = "enrolments_full"


class NotExternalSenderError(BadRequestError):
    """A message on the external-proposal route whose sender is not an external sender."""

    code = "not_external_sender"


class NotProposalError(BadRequestError):
    """A message on the external-proposal route that carries no proposal."""

    code = "not_proposal"


class LeafIndexOffRosterError(BadRequestError):
    """A commit declares the leaf index of a device that is not on the roster after it."""

    code = "leaf_index_off_roster"


class UnknownDeviceError(BadRequestError):
    """A request names a device the directory does not have (or has revoked)."""

    code = "unknown_device"


class StorageUnavailableError(RelayError):
    """The write could not be made durable (disk full, I/O error); nothing was stored."""

    code = "storage_unavailable"
    status = 503
