"""RFC 9420 §6 and §8.2: the framing structures of MLS messages, without any cryptography.

::

    Proposal / Commit / application data
                  │
             FramedContent ──► FramedContentTBS ──sign──► FramedContentAuthData
                  │                                             │
                  └──────────── AuthenticatedContent ◄──────────┘
                                 │                 │
                 PublicMessage (+ membership_tag)  PrivateMessage (SenderData and
                                 │                 │  PrivateMessageContent, encrypted)
                                 └──── MLSMessage ─┴── Welcome · GroupInfo · KeyPackage

Two structures cannot be decoded on their own: ``FramedContentAuthData`` carries a
``confirmation_tag`` only for commits, and ``PrivateMessageContent`` has no content type of
its own. Their ``decode``/``from_bytes`` take the :class:`ContentType` from the enclosing
message. The padding of a ``PrivateMessageContent`` is every byte after ``auth`` and must
be zero (§6.3.1). Messages whose parts do not agree — a confirmation tag on a proposal, a
membership tag from a non-member — cannot be built, and are refused when decoded.

Signing, MACs and encryption belong to message protection; this module only produces the
exact bytes they cover: :meth:`AuthenticatedContent.tbs`, :meth:`AuthenticatedContent.tbm`,
:func:`framed_content_tbs`, :meth:`PrivateMessage.sender_data_aad`,
:meth:`PrivateMessage.content_aad` and the transcript hash inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

from protocol.codec import Reader, Struct, Writer, decode_exact
from protocol.errors import DecodeError
from protocol.mls.constants import (
    ContentType,
    ProtocolVersion,
    SenderType,
    WireFormat,
    closed,
    read_mls10,
)
from protocol.mls.group_context import GroupContext
from protocol.mls.key_package import KeyPackage
from protocol.mls.proposals import Commit, Proposal
from protocol.mls.welcome import GroupInfo, Welcome

# --- §6 Sender ---------------------------------------------------------------------------

_INDEXED_SENDERS = frozenset({SenderType.MEMBER, SenderType.EXTERNAL})


@dataclass(frozen=True, slots=True, kw_only=True)
class Sender(Struct):
    """Who sent a message: ``index`` is the leaf index of a member, or the position of an
    external sender in the ``external_senders`` extension; new members have none."""

    sender_type: SenderType
    index: int | None = None

    def __post_init__(self) -> None:
        sender_type = SenderType(self.sender_type)
        if (self.index is not None) != (sender_type in _INDEXED_SENDERS):
            raise ValueError(f"a {sender_type.name} sender takes no index, or needs one")

    @classmethod
    def member(cls, leaf_index: int) -> Self:
        return cls(sender_type=SenderType.MEMBER, index=leaf_index)

    @classmethod
    def external(cls, sender_index: int) -> Self:
        return cls(sender_type=SenderType.EXTERNAL, index=sender_index)

    @classmethod
    def new_member_proposal(cls) -> Self:
        return cls(sender_type=SenderType.NEW_MEMBER_PROPOSAL)

    @classmethod
    def new_member_commit(cls) -> Self:
        return cls(sender_type=SenderType.NEW_MEMBER_COMMIT)

    def encode(self, w: Writer) -> None:
        w.uint8(self.sender_type)
        if self.index is not None:
            w.uint32(self.index)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        sender_type = closed(SenderType, r.uint8())
        index = r.uint32() if sender_type in _INDEXED_SENDERS else None
        return cls(sender_type=sender_type, index=index)


# --- §6 content -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationData(Struct):
    """``opaque application_data<V>``: the content of an application message."""

    data: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(data=r.opaque())


Content = ApplicationData | Proposal | Commit

_CONTENT_TYPES: dict[type[Struct], ContentType] = {
    ApplicationData: ContentType.APPLICATION,
    Proposal: ContentType.PROPOSAL,
    Commit: ContentType.COMMIT,
}
_CONTENT_DECODERS: dict[ContentType, Callable[[Reader], Content]] = {
    ContentType.APPLICATION: ApplicationData.decode,
    ContentType.PROPOSAL: Proposal.decode,
    ContentType.COMMIT: Commit.decode,
}


def content_type_of(content: Content) -> ContentType:
    return _CONTENT_TYPES[type(content)]


@dataclass(frozen=True, slots=True, kw_only=True)
class FramedContent(Struct):
    """The content of a message with its group, epoch, sender and authenticated data."""

    group_id: bytes
    epoch: int
    sender: Sender
    authenticated_data: bytes = b""
    content: Content

    @property
    def content_type(self) -> ContentType:
        return content_type_of(self.content)

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id)
        w.uint64(self.epoch)
        self.sender.encode(w)
        w.opaque(self.authenticated_data)
        w.uint8(self.content_type)
        self.content.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        group_id = r.opaque()
        epoch = r.uint64()
        sender = Sender.decode(r)
        authenticated_data = r.opaque()
        content = _CONTENT_DECODERS[closed(ContentType, r.uint8())](r)
        return cls(
            group_id=group_id,
            epoch=epoch,
            sender=sender,
            authenticated_data=authenticated_data,
            content=content,
        )


# --- §6.1 authentication ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FramedContentAuthData:
    """The signature, and for commits the confirmation tag; decoding needs the content type."""

    signature: bytes
    confirmation_tag: bytes | None = None

    def check_content_type(self, content_type: ContentType) -> None:
        """Raise ``ValueError`` unless a confirmation tag is present exactly for commits."""
        if (self.confirmation_tag is not None) != (content_type == ContentType.COMMIT):
            raise ValueError("a confirmation tag belongs to commits, and only to commits")

    def encode(self, w: Writer) -> None:
        w.opaque(self.signature)
        if self.confirmation_tag is not None:
            w.opaque(self.confirmation_tag)

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()

    @classmethod
    def decode(cls, r: Reader, content_type: ContentType) -> Self:
        signature = r.opaque()
        tag = r.opaque() if content_type == ContentType.COMMIT else None
        return cls(signature=signature, confirmation_tag=tag)

    @classmethod
    def from_bytes(cls, data: bytes, content_type: ContentType) -> Self:
        return decode_exact(data, lambda r: cls.decode(r, content_type))


_SENDERS_WITH_CONTEXT = frozenset({SenderType.MEMBER, SenderType.NEW_MEMBER_COMMIT})


def framed_content_tbs(
    wire_format: WireFormat, content: FramedContent, group_context: GroupContext | None
) -> bytes:
    """``FramedContentTBS``, signed with label "FramedContentTBS".

    ``group_context`` (the context of the epoch the message is sent in) is required for
    ``member`` and ``new_member_commit`` senders and refused for the others.
    """
    needs_context = content.sender.sender_type in _SENDERS_WITH_CONTEXT
    if needs_context != (group_context is not None):
        raise ValueError(
            f"FramedContentTBS of a {SenderType(content.sender.sender_type).name} sender "
            + ("needs" if needs_context else "takes no")
            + " group context"
        )
    w = Writer()
    w.uint16(ProtocolVersion.MLS10)
    w.uint16(wire_format)
    content.encode(w)
    if group_context is not None:
        group_context.encode(w)
    return w.getvalue()


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticatedContent(Struct):
    """Content with its authentication, as both message kinds carry it (§6)."""

    wire_format: WireFormat
    content: FramedContent
    auth: FramedContentAuthData

    def __post_init__(self) -> None:
        WireFormat(self.wire_format)
        self.auth.check_content_type(self.content.content_type)

    def encode(self, w: Writer) -> None:
        w.uint16(self.wire_format)
        self.content.encode(w)
        self.auth.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        wire_format = closed(WireFormat, r.uint16())
        content = FramedContent.decode(r)
        auth = FramedContentAuthData.decode(r, content.content_type)
        return cls(wire_format=wire_format, content=content, auth=auth)

    def tbs(self, group_context: GroupContext | None) -> bytes:
        """The ``FramedContentTBS`` that ``auth.signature`` signs (see
        :func:`framed_content_tbs` for when ``group_context`` is needed)."""
        return framed_content_tbs(self.wire_format, self.content, group_context)

    def tbm(self, group_context: GroupContext | None) -> bytes:
        """``AuthenticatedContentTBM`` (§6.2), the input of a PublicMessage's membership tag."""
        return self.tbs(group_context) + self.auth.to_bytes()

    def confirmed_transcript_hash_input(self) -> bytes:
        """The encoded ``ConfirmedTranscriptHashInput`` of this commit (§8.2)."""
        return ConfirmedTranscriptHashInput(
            wire_format=self.wire_format,
            content=self.content,
            signature=self.auth.signature,
        ).to_bytes()

    def interim_transcript_hash_input(self) -> bytes:
        """The encoded ``InterimTranscriptHashInput`` of this commit (§8.2)."""
        if self.auth.confirmation_tag is None:
            raise ValueError("only a commit has an interim transcript hash input")
        return InterimTranscriptHashInput(confirmation_tag=self.auth.confirmation_tag).to_bytes()


# --- §8.2 transcript hash inputs --------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmedTranscriptHashInput(Struct):
    """What the confirmed transcript hash absorbs from a commit."""

    wire_format: WireFormat
    content: FramedContent
    signature: bytes

    def __post_init__(self) -> None:
        WireFormat(self.wire_format)
        if self.content.content_type != ContentType.COMMIT:
            raise ValueError("a transcript hash input is built from a commit")

    def encode(self, w: Writer) -> None:
        w.uint16(self.wire_format)
        self.content.encode(w)
        w.opaque(self.signature)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        wire_format = closed(WireFormat, r.uint16())
        content = FramedContent.decode(r)
        if content.content_type != ContentType.COMMIT:
            raise DecodeError("a transcript hash input must carry a commit")
        return cls(wire_format=wire_format, content=content, signature=r.opaque())


@dataclass(frozen=True, slots=True, kw_only=True)
class InterimTranscriptHashInput(Struct):
    """What the interim transcript hash absorbs from a commit: its confirmation tag."""

    confirmation_tag: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.confirmation_tag)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(confirmation_tag=r.opaque())


# --- §6.2 PublicMessage -----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicMessage(Struct):
    """A signed, unencrypted message; members' messages also carry a membership tag."""

    content: FramedContent
    auth: FramedContentAuthData
    membership_tag: bytes | None = None

    def __post_init__(self) -> None:
        self.auth.check_content_type(self.content.content_type)
        is_member = self.content.sender.sender_type == SenderType.MEMBER
        if (self.membership_tag is not None) != is_member:
            raise ValueError("a membership tag belongs to member senders, and only to them")

    @classmethod
    def from_authenticated_content(
        cls, authenticated: AuthenticatedContent, membership_tag: bytes | None
    ) -> Self:
        if authenticated.wire_format != WireFormat.MLS_PUBLIC_MESSAGE:
            raise ValueError("the content was authenticated for another wire format")
        return cls(
            content=authenticated.content,
            auth=authenticated.auth,
            membership_tag=membership_tag,
        )

    def authenticated_content(self) -> AuthenticatedContent:
        return AuthenticatedContent(
            wire_format=WireFormat.MLS_PUBLIC_MESSAGE, content=self.content, auth=self.auth
        )

    def encode(self, w: Writer) -> None:
        self.content.encode(w)
        self.auth.encode(w)
        if self.membership_tag is not None:
            w.opaque(self.membership_tag)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        content = FramedContent.decode(r)
        auth = FramedContentAuthData.decode(r, content.content_type)
        is_member = content.sender.sender_type == SenderType.MEMBER
        membership_tag = r.opaque() if is_member else None
        return cls(content=content, auth=auth, membership_tag=membership_tag)


# --- §6.3 PrivateMessage and what is encrypted in it -------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SenderDataAAD(Struct):
    """The AAD of the sender data encryption: the first three fields of a PrivateMessage."""

    group_id: bytes
    epoch: int
    content_type: ContentType

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id)
        w.uint64(self.epoch)
        w.uint8(self.content_type)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(group_id=r.opaque(), epoch=r.uint64(), content_type=_read_content_type(r))


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivateContentAAD(Struct):
    """The AAD of the content encryption."""

    group_id: bytes
    epoch: int
    content_type: ContentType
    authenticated_data: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id)
        w.uint64(self.epoch)
        w.uint8(self.content_type)
        w.opaque(self.authenticated_data)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            group_id=r.opaque(),
            epoch=r.uint64(),
            content_type=_read_content_type(r),
            authenticated_data=r.opaque(),
        )


def _read_content_type(r: Reader) -> ContentType:
    return closed(ContentType, r.uint8())


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivateMessage(Struct):
    """An encrypted message: sender data and content are both AEAD ciphertexts."""

    group_id: bytes
    epoch: int
    content_type: ContentType
    authenticated_data: bytes = b""
    encrypted_sender_data: bytes
    ciphertext: bytes

    def encode(self, w: Writer) -> None:
        w.opaque(self.group_id)
        w.uint64(self.epoch)
        w.uint8(self.content_type)
        w.opaque(self.authenticated_data)
        w.opaque(self.encrypted_sender_data)
        w.opaque(self.ciphertext)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            group_id=r.opaque(),
            epoch=r.uint64(),
            content_type=_read_content_type(r),
            authenticated_data=r.opaque(),
            encrypted_sender_data=r.opaque(),
            ciphertext=r.opaque(),
        )

    def sender_data_aad(self) -> bytes:
        """The encoded ``SenderDataAAD`` of this message (§6.3.2)."""
        return SenderDataAAD(
            group_id=self.group_id, epoch=self.epoch, content_type=self.content_type
        ).to_bytes()

    def content_aad(self) -> bytes:
        """The encoded ``PrivateContentAAD`` of this message (§6.3.1)."""
        return PrivateContentAAD(
            group_id=self.group_id,
            epoch=self.epoch,
            content_type=self.content_type,
            authenticated_data=self.authenticated_data,
        ).to_bytes()


@dataclass(frozen=True, slots=True, kw_only=True)
class SenderData(Struct):
    """The encrypted sender data: leaf, ratchet generation, and the 4-byte reuse guard."""

    leaf_index: int
    generation: int
    reuse_guard: bytes

    def __post_init__(self) -> None:
        if len(self.reuse_guard) != 4:
            raise ValueError("reuse_guard is exactly 4 bytes")

    def encode(self, w: Writer) -> None:
        w.uint32(self.leaf_index)
        w.uint32(self.generation)
        w.fixed(self.reuse_guard)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(leaf_index=r.uint32(), generation=r.uint32(), reuse_guard=r.fixed(4))


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivateMessageContent:
    """The plaintext of a PrivateMessage: content body, auth, and ``padding`` zero bytes."""

    content: Content
    auth: FramedContentAuthData
    padding: int = 0

    def __post_init__(self) -> None:
        self.auth.check_content_type(self.content_type)
        if self.padding < 0:
            raise ValueError("padding is a number of bytes")

    @property
    def content_type(self) -> ContentType:
        return content_type_of(self.content)

    def encode(self, w: Writer) -> None:
        self.content.encode(w)
        self.auth.encode(w)
        w.fixed(bytes(self.padding))

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()

    @classmethod
    def decode(cls, r: Reader, content_type: ContentType) -> Self:
        """Read the content of ``content_type`` and the auth; every byte left is padding."""
        content = _CONTENT_DECODERS[closed(ContentType, content_type)](r)
        auth = FramedContentAuthData.decode(r, content_type)
        padding = r.fixed(r.remaining)
        if padding.count(0) != len(padding):
            raise DecodeError("non-zero byte in PrivateMessageContent padding")
        return cls(content=content, auth=auth, padding=len(padding))

    @classmethod
    def from_bytes(cls, data: bytes, content_type: ContentType) -> Self:
        return decode_exact(data, lambda r: cls.decode(r, content_type))


# --- §6 MLSMessage ----------------------------------------------------------------------

MessageBody = PublicMessage | PrivateMessage | Welcome | GroupInfo | KeyPackage

_WIRE_FORMATS: dict[type[Struct], WireFormat] = {
    PublicMessage: WireFormat.MLS_PUBLIC_MESSAGE,
    PrivateMessage: WireFormat.MLS_PRIVATE_MESSAGE,
    Welcome: WireFormat.MLS_WELCOME,
    GroupInfo: WireFormat.MLS_GROUP_INFO,
    KeyPackage: WireFormat.MLS_KEY_PACKAGE,
}
_BODY_DECODERS: dict[WireFormat, Callable[[Reader], MessageBody]] = {
    WireFormat.MLS_PUBLIC_MESSAGE: PublicMessage.decode,
    WireFormat.MLS_PRIVATE_MESSAGE: PrivateMessage.decode,
    WireFormat.MLS_WELCOME: Welcome.decode,
    WireFormat.MLS_GROUP_INFO: GroupInfo.decode,
    WireFormat.MLS_KEY_PACKAGE: KeyPackage.decode,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class MLSMessage(Struct):
    """The unit MLS sends: protocol version, wire format, and the message of that format.

    A key package inside must state the same version as the message (§10).
    """

    body: MessageBody

    @property
    def version(self) -> ProtocolVersion:
        return ProtocolVersion.MLS10

    @property
    def wire_format(self) -> WireFormat:
        return _WIRE_FORMATS[type(self.body)]

    def encode(self, w: Writer) -> None:
        w.uint16(self.version)
        w.uint16(self.wire_format)
        self.body.encode(w)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        version = read_mls10(r)
        body = _BODY_DECODERS[closed(WireFormat, r.uint16())](r)
        if isinstance(body, KeyPackage) and body.version != version:
            raise DecodeError(f"key package of version {body.version} in an mls10 message")
        return cls(body=body)
