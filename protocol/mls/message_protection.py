"""RFC 9420 §6.1–§6.3: signing content, and protecting it as PublicMessage or PrivateMessage.

::

    FramedContent ──sign (FramedContentTBS)──► AuthenticatedContent
        │
        ├─ PublicMessage:  + membership_tag = MAC(membership_key, AuthenticatedContentTBM)
        │                  (member senders only; never for application data)
        └─ PrivateMessage: content+auth+zero padding ──AEAD(ratchet key, nonce ⊕ reuse guard,
                           PrivateContentAAD)──► ciphertext
                           SenderData(leaf, generation, reuse guard) ──AEAD(key from
                           sender_data_secret and a ciphertext sample, SenderDataAAD)──►
                           encrypted_sender_data

Unprotecting checks everything that needs only the epoch's secrets — group id, epoch,
membership tag, AEAD tags, sender-data sanity, padding — and returns an
:class:`UnverifiedContent`. Parse is not trust: the signature is checked only by
:meth:`UnverifiedContent.verify`, with the key the caller looks up for the sender (a leaf of
the ratchet tree, or an entry of ``external_senders``), and only that yields an
:class:`AuthenticatedContent` to act on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from crypto.errors import InvalidTagError
from crypto.labels import sign_with_label, verify_with_label
from crypto.padding import padded_length
from crypto.random import RandomSource
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite
from protocol.errors import (
    UnknownSenderError,
    ValidationError,
    WrongEpochError,
    WrongGroupError,
)
from protocol.mls.constants import ContentType, ProposalType, SenderType, WireFormat
from protocol.mls.framing import (
    AuthenticatedContent,
    Content,
    FramedContent,
    FramedContentAuthData,
    PrivateMessage,
    PrivateMessageContent,
    PublicMessage,
    Sender,
    SenderData,
    framed_content_tbs,
)
from protocol.mls.group_context import GroupContext
from protocol.mls.proposals import Commit, Proposal
from protocol.mls.secret_tree import RatchetKey, RatchetKind, SecretTree, sender_data_key

CONTENT_SIGNATURE_LABEL = "FramedContentTBS"
REUSE_GUARD_SIZE = 4

_CONTEXT_SENDERS = frozenset({SenderType.MEMBER, SenderType.NEW_MEMBER_COMMIT})

EXTERNAL_SENDER_PROPOSALS = frozenset(
    {
        ProposalType.ADD,
        ProposalType.REMOVE,
        ProposalType.PSK,
        ProposalType.REINIT,
        ProposalType.GROUP_CONTEXT_EXTENSIONS,
    }
)
"""§12.1.8: the proposal types an external sender may send."""


class MembershipTagError(ValidationError):
    """A member's PublicMessage does not carry the membership tag of this epoch."""

    code = "membership_tag"


class ForbiddenWireFormatError(ValidationError):
    """Content arrived in a wire format it must never use (application data in public)."""

    code = "forbidden_wire_format"


class SenderMismatchError(ValidationError):
    """A sender sent content its kind may not send, or content was framed for another
    sender or wire format than the one protecting it."""

    code = "sender_mismatch"


def _context_for(sender: Sender, group_context: GroupContext) -> GroupContext | None:
    """The group context a FramedContentTBS covers: members' and new members' commits."""
    return group_context if sender.sender_type in _CONTEXT_SENDERS else None


def sign_content(
    suite: CipherSuite,
    signing_key: SigningKey,
    wire_format: WireFormat,
    content: FramedContent,
    group_context: GroupContext,
    confirmation_tag: bytes | None = None,
) -> AuthenticatedContent:
    """Sign ``content`` for ``wire_format`` (§6.1); commits need their confirmation tag."""
    tbs = framed_content_tbs(wire_format, content, _context_for(content.sender, group_context))
    signature = sign_with_label(suite, signing_key, CONTENT_SIGNATURE_LABEL, tbs)
    auth = FramedContentAuthData(signature=signature, confirmation_tag=confirmation_tag)
    return AuthenticatedContent(wire_format=wire_format, content=content, auth=auth)


@dataclass(frozen=True, slots=True)
class UnverifiedContent:
    """Content whose framing and encryption checked out but whose signature is unchecked."""

    authenticated: AuthenticatedContent

    @property
    def sender(self) -> Sender:
        return self.authenticated.content.sender

    @property
    def content_type(self) -> ContentType:
        return self.authenticated.content.content_type

    def verify(
        self, suite: CipherSuite, signature_key: bytes, group_context: GroupContext
    ) -> AuthenticatedContent:
        """Check the signature with the sender's key; raises ``InvalidSignatureError``."""
        content = self.authenticated.content
        tbs = self.authenticated.tbs(_context_for(content.sender, group_context))
        verify_with_label(
            suite, signature_key, CONTENT_SIGNATURE_LABEL, tbs, self.authenticated.auth.signature
        )
        return self.authenticated


_MAY_SEND: dict[SenderType, Callable[[Content], bool]] = {
    SenderType.MEMBER: lambda body: True,
    SenderType.EXTERNAL: lambda body: (
        isinstance(body, Proposal) and body.proposal_type in EXTERNAL_SENDER_PROPOSALS
    ),
    SenderType.NEW_MEMBER_PROPOSAL: lambda body: (
        isinstance(body, Proposal) and body.proposal_type == ProposalType.ADD
    ),
    SenderType.NEW_MEMBER_COMMIT: lambda body: isinstance(body, Commit),
}
"""§6.1, §12.1.8: what each kind of sender may send; anything else is malformed. Members
send anything; an external sender only proposals of the allowed types; a new member only
an Add of itself (new_member_proposal) or a commit (new_member_commit)."""


def check_sender_may_send(content: FramedContent) -> None:
    """Raise :class:`SenderMismatchError` if the sender's kind may not send this content."""
    sender_type = SenderType(content.sender.sender_type)
    if not _MAY_SEND[sender_type](content.content):
        raise SenderMismatchError(
            f"a {sender_type.name} sender may not send this {content.content_type.name}"
        )


def _check_group_and_epoch(group_id: bytes, epoch: int, group_context: GroupContext) -> None:
    if group_id != group_context.group_id:
        raise WrongGroupError("message is for another group")
    if epoch != group_context.epoch:
        raise WrongEpochError(f"message is for epoch {epoch}, group is at {group_context.epoch}")


# --- §6.2 PublicMessage --------------------------------------------------------------------


def _membership_tag(
    suite: CipherSuite,
    membership_key: bytes,
    authenticated: AuthenticatedContent,
    ctx: GroupContext,
) -> bytes:
    return suite.mac(membership_key, authenticated.tbm(ctx))


def protect_public(
    suite: CipherSuite,
    authenticated: AuthenticatedContent,
    membership_key: bytes,
    group_context: GroupContext,
) -> PublicMessage:
    """Frame signed content as a PublicMessage, adding the membership tag for members."""
    if authenticated.wire_format != WireFormat.MLS_PUBLIC_MESSAGE:
        raise SenderMismatchError("content was signed for another wire format")
    if authenticated.content.content_type == ContentType.APPLICATION:
        raise ForbiddenWireFormatError("application data is never sent as a PublicMessage")
    tag = None
    if authenticated.content.sender.sender_type == SenderType.MEMBER:
        tag = _membership_tag(suite, membership_key, authenticated, group_context)
    return PublicMessage.from_authenticated_content(authenticated, tag)


def unprotect_public(
    suite: CipherSuite,
    message: PublicMessage,
    membership_key: bytes,
    group_context: GroupContext,
) -> UnverifiedContent:
    """Check a PublicMessage's group, epoch, content type and membership tag."""
    content = message.content
    _check_group_and_epoch(content.group_id, content.epoch, group_context)
    if content.content_type == ContentType.APPLICATION:
        raise ForbiddenWireFormatError("application data arrived as a PublicMessage")
    check_sender_may_send(content)
    authenticated = message.authenticated_content()
    if content.sender.sender_type == SenderType.MEMBER:
        tag = message.membership_tag
        if tag is None:
            raise MembershipTagError("membership tag does not verify")
        try:
            suite.kdf.verify_mac(membership_key, authenticated.tbm(group_context), tag)
        except InvalidTagError as exc:
            raise MembershipTagError("membership tag does not verify") from exc
    return UnverifiedContent(authenticated)


# --- §6.3 PrivateMessage -------------------------------------------------------------------


def _ratchet_kind(content_type: ContentType) -> RatchetKind:
    if content_type == ContentType.APPLICATION:
        return RatchetKind.APPLICATION
    return RatchetKind.HANDSHAKE


def _guarded_nonce(nonce: bytes, reuse_guard: bytes) -> bytes:
    """XOR the reuse guard into the first four bytes of the key schedule's nonce (§6.3.1)."""
    head = bytes(a ^ b for a, b in zip(nonce[:REUSE_GUARD_SIZE], reuse_guard, strict=True))
    return head + nonce[REUSE_GUARD_SIZE:]


def protect_private(
    suite: CipherSuite,
    authenticated: AuthenticatedContent,
    secret_tree: SecretTree,
    sender_data_secret: bytes,
    rng: RandomSource,
    pad_to: Callable[[int], int] = padded_length,
) -> PrivateMessage:
    """Encrypt member content under the sender's next ratchet key (§6.3.1, §6.3.2).

    ``pad_to`` maps the plaintext length to the padded length (zero bytes are appended).
    """
    content = authenticated.content
    if authenticated.wire_format != WireFormat.MLS_PRIVATE_MESSAGE:
        raise SenderMismatchError("content was signed for another wire format")
    if content.sender.sender_type != SenderType.MEMBER or content.sender.index is None:
        raise SenderMismatchError("only members send PrivateMessages")
    leaf_index = content.sender.index
    unpadded = PrivateMessageContent(content=content.content, auth=authenticated.auth)
    length = len(unpadded.to_bytes())
    padding = pad_to(length) - length
    if padding < 0:
        raise ValueError("padding policy shrank the plaintext")
    plaintext = PrivateMessageContent(
        content=content.content, auth=authenticated.auth, padding=padding
    ).to_bytes()

    key = secret_tree.next_key(leaf_index, _ratchet_kind(content.content_type))
    reuse_guard = rng.random_bytes(REUSE_GUARD_SIZE)
    header = PrivateMessage(
        group_id=content.group_id,
        epoch=content.epoch,
        content_type=content.content_type,
        authenticated_data=content.authenticated_data,
        encrypted_sender_data=b"",
        ciphertext=b"",
    )
    ciphertext = suite.aead.seal(
        key.key, _guarded_nonce(key.nonce, reuse_guard), header.content_aad(), plaintext
    )
    sender_data = SenderData(
        leaf_index=leaf_index, generation=key.generation, reuse_guard=reuse_guard
    ).to_bytes()
    data_key = sender_data_key(suite, sender_data_secret, ciphertext)
    encrypted_sender_data = suite.aead.seal(
        data_key.key, data_key.nonce, header.sender_data_aad(), sender_data
    )
    return PrivateMessage(
        group_id=header.group_id,
        epoch=header.epoch,
        content_type=header.content_type,
        authenticated_data=header.authenticated_data,
        encrypted_sender_data=encrypted_sender_data,
        ciphertext=ciphertext,
    )


def unprotect_private(
    suite: CipherSuite,
    message: PrivateMessage,
    secret_tree: SecretTree,
    sender_data_secret: bytes,
    group_context: GroupContext,
    is_member: Callable[[int], bool],
) -> UnverifiedContent:
    """Decrypt a PrivateMessage of this group and epoch from a member (non-blank leaf).

    Raises ``InvalidTagError`` for a bad tag in either layer, ``DecodeError`` for a
    malformed plaintext (including non-zero padding), ``UnknownSenderError`` for a blank
    or out-of-range leaf, and ``ReplayError`` for a generation already used.
    A key is consumed only when the content decrypts under it.
    """
    _check_group_and_epoch(message.group_id, message.epoch, group_context)
    data_key = sender_data_key(suite, sender_data_secret, message.ciphertext)
    sender_data = SenderData.from_bytes(
        suite.aead.open(
            data_key.key, data_key.nonce, message.sender_data_aad(), message.encrypted_sender_data
        )
    )
    if sender_data.leaf_index >= secret_tree.n_leaves or not is_member(sender_data.leaf_index):
        raise UnknownSenderError(f"leaf {sender_data.leaf_index} is not a member")
    aad = message.content_aad()

    def decrypt(key: RatchetKey) -> bytes:
        nonce = _guarded_nonce(key.nonce, sender_data.reuse_guard)
        return suite.aead.open(key.key, nonce, aad, message.ciphertext)

    plaintext = secret_tree.open_with(
        sender_data.leaf_index,
        _ratchet_kind(message.content_type),
        sender_data.generation,
        decrypt,
    )
    private_content = PrivateMessageContent.from_bytes(plaintext, message.content_type)
    framed = FramedContent(
        group_id=message.group_id,
        epoch=message.epoch,
        sender=Sender.member(sender_data.leaf_index),
        authenticated_data=message.authenticated_data,
        content=private_content.content,
    )
    return UnverifiedContent(
        AuthenticatedContent(
            wire_format=WireFormat.MLS_PRIVATE_MESSAGE, content=framed, auth=private_content.auth
        )
    )
