"""What the relay reads from an MLSMessage (RFC 9420 §6): the public header, nothing more.

A PrivateMessage shows its group id, epoch and content type in clear (they are its AAD); a
PublicMessage shows them in its FramedContent. The relay orders commits by epoch with
these fields and never decrypts or verifies anything — clients do.

The coordinator's external proposals (RFC 9420 §12.1.8) are PublicMessages whose sender is
an external sender; :func:`external_proposal_header` admits those and nothing else, so the
external route cannot carry application data, commits, or messages in a member's name.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.codec import Reader
from protocol.errors import DecodeError
from protocol.mls.constants import ContentType, ProtocolVersion, SenderType, WireFormat, closed
from protocol.mls.framing import MLSMessage, PrivateMessage, PublicMessage
from server.errors import BadRequestError, NotExternalSenderError, NotProposalError


class WrongGroupError(BadRequestError):
    code = "wrong_group"


class WrongWireFormatError(BadRequestError):
    code = "wrong_wire_format"


class UndecodableMessageError(BadRequestError):
    code = "decode"


@dataclass(slots=True, kw_only=True)
class MessageHeader:
    """What the relay reads of a message. Not frozen: one is read for every send (see
    :class:`~server.storage.interface.SendRequest`)."""

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


_PRIVATE_MESSAGE_START = bytes((0, ProtocolVersion.MLS10, 0, WireFormat.MLS_PRIVATE_MESSAGE))


def _private_message_header(data: bytes) -> MessageHeader | None:
    """The header of an MLSMessage of PrivateMessage, read in place with the checks of
    :meth:`MLSMessage.from_bytes` but no objects made; ``None`` for anything else (which
    :func:`parse` then reads, or refuses)."""
    if data[:4] != _PRIVATE_MESSAGE_START:  # version mls10, wire format mls_private_message
        return None
    reader = Reader(data, 4)
    group_id = reader.opaque()
    epoch = reader.uint64()
    content_type = closed(ContentType, reader.uint8())
    reader.opaque()  # authenticated_data
    reader.opaque()  # encrypted_sender_data
    reader.opaque()  # ciphertext
    reader.finish()
    return MessageHeader(
        wire_format=WireFormat.MLS_PRIVATE_MESSAGE,
        group_id=group_id,
        epoch=epoch,
        content_type=content_type,
    )


def group_message_header(data: bytes) -> MessageHeader:
    """The header of a handshake or application message; anything else is refused."""
    try:
        header = _private_message_header(data)
    except (DecodeError, ValueError):
        raise UndecodableMessageError("the message is not an MLSMessage") from None
    if header is not None:  # the common case: read without decoding the whole message
        return header
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


def external_proposal_header(data: bytes) -> MessageHeader:
    """The header of a PublicMessage proposal from an external sender; anything else is
    refused with a typed error."""
    body = parse(data).body
    if not isinstance(body, PublicMessage):
        raise WrongWireFormatError("an external proposal is an MLSMessage of PublicMessage")
    content = body.content
    if content.sender.sender_type != SenderType.EXTERNAL:
        raise NotExternalSenderError("the message's sender is not an external sender")
    if content.content_type != ContentType.PROPOSAL:
        raise NotProposalError("an external sender's message here carries a proposal only")
    return MessageHeader(
        wire_format=WireFormat.MLS_PUBLIC_MESSAGE,
        group_id=content.group_id,
        epoch=content.epoch,
        content_type=content.content_type,
    )


def require_wire_format(data: bytes, wire_format: WireFormat) -> MLSMessage:
    message = parse(data)
    if message.wire_format != wire_format:
        raise WrongWireFormatError(f"expected an MLSMessage of {wire_format.name}")
    return message
