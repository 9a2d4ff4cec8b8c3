"""RFC 9420 §12.1.8: proposals from an external sender (casecircle's coordinator).

The coordinator is named in the group's ``external_senders`` extension at creation, so it
can propose adding or removing devices in a case it is not a member of, and cannot read.
Its proposals are PublicMessages signed with its key (it has no group secrets, hence no
membership tag and no encryption); members verify them against the extension, cache them,
and the next member online commits them by reference.
"""

from __future__ import annotations

from crypto.labels import sign_with_label
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite
from protocol.mls.constants import WireFormat
from protocol.mls.credentials import Credential
from protocol.mls.extensions import Extension, ExternalSender, ExternalSenders
from protocol.mls.framing import (
    FramedContent,
    FramedContentAuthData,
    MLSMessage,
    PublicMessage,
    Sender,
    framed_content_tbs,
)
from protocol.mls.message_protection import CONTENT_SIGNATURE_LABEL, check_sender_may_send
from protocol.mls.proposals import Proposal


def external_senders_extension(senders: tuple[tuple[bytes, Credential], ...]) -> Extension:
    """The ``external_senders`` group context extension naming (signature key, credential)."""
    return ExternalSenders(
        senders=tuple(ExternalSender(signature_key=key, credential=cred) for key, cred in senders)
    ).to_extension()


def external_proposal(
    suite: CipherSuite,
    signing_key: SigningKey,
    sender_index: int,
    group_id: bytes,
    epoch: int,
    proposal: Proposal,
    *,
    authenticated_data: bytes = b"",
) -> bytes:
    """An MLSMessage(PublicMessage) carrying ``proposal`` from external sender ``sender_index``.

    It is bound to one group and epoch (the relay tells the coordinator the current epoch;
    a proposal for another epoch is refused by members, so it cannot be replayed later).
    """
    content = FramedContent(
        group_id=group_id,
        epoch=epoch,
        sender=Sender.external(sender_index),
        authenticated_data=authenticated_data,
        content=proposal,
    )
    check_sender_may_send(content)
    tbs = framed_content_tbs(WireFormat.MLS_PUBLIC_MESSAGE, content, None)
    signature = sign_with_label(suite, signing_key, CONTENT_SIGNATURE_LABEL, tbs)
    message = PublicMessage(content=content, auth=FramedContentAuthData(signature=signature))
    return MLSMessage(body=message).to_bytes()
