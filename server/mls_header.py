"""What the relay reads from an MLSMessage (RFC 9420 §6): the public header, nothing more.

A PrivateMessage shows its group id, epoch and content type in clear (they are its AAD); a
PublicMessage shows them in its FramedContent. The relay orders commits by epoch with
these fields and never decrypts or verifies anything — clients do.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.errors import DecodeError
from protocol.mls.constants import ContentType, WireFormat
from protocol.mls.framing import MLSMessage, PrivateMessage, PublicMessage
from server.errors import BadRequestError


class WrongGroupError(BadRequestError):
    code = "wrong_group"


class WrongWireFormatError(BadRequestError):
    code = "wrong_wire_format"


class UndecodableMessageError(BadRequestError):
    code = "decode"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageHeader:
    wire_format: WireFormat
    group_id: bytes
    epoch: int
    content_type: ContentType

    @property
    def is_commit(self) -> bool:
        return self.content_type == ContentType.COMMIT


def parse(data: bytes) -> MLSMessage:
    try:
        return MLSMessage.from_bytes(data)
    except (DecodeError, ValueError):
        raise UndecodableMessageError("the message is not an MLSMessage") from None


def group_message_header(data: bytes) -> MessageHeader:
    """The header of a handshake or application message; anything else is refused."""
    body = parse(data).body
    match body:
        case PrivateMessage():
            return MessageHeader(
                wire_format=WireFormat.MLS_PRIVATE_MESSAGE,
                group_id=body.group_id,
                epoch=body.epoch,
                content_type=ContentType(body.content_type),
            )
        case PublicMessage():
            if body.content.content_type == ContentType.APPLICATION:
                raise WrongWireFormatError("application data travels only as PrivateMessage")
            return MessageHeader(
                wire_format=WireFormat.MLS_PUBLIC_MESSAGE,
                group_id=body.content.group_id,
                epoch=body.content.epoch,
                content_type=body.content.content_type,
            )
        case _:
            raise WrongWireFormatError("a group takes PublicMessage or PrivateMessage")


def require_wire_format(data: bytes, wire_format: WireFormat) -> MLSMessage:
    message = parse(data)
    if message.wire_format != wire_format:
        raise WrongWireFormatError(f"expected an MLSMessage of {wire_format.name}")
    return message
