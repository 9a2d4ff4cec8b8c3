"""The rules for the ``messages`` table, one stored MLSMessage at a time (RFC 9420 §6).

What a member sends is a PrivateMessage: in the clear only the group id, the epoch, the
content type and the authenticated data (§6.3), so

* the ciphertext and the encrypted sender data are checked for plaintext, and the
  ciphertext's size must be a padded one (:mod:`client.audit.sizes`);
* an application message's authenticated data must be a case envelope
  (:mod:`protocol.case_envelope`: version, kind, epoch, item id, then ciphertext), whose
  ciphertext is likewise padded and unreadable; a handshake message carries none.

The only PublicMessages allowed are the coordinator's external proposals (DESIGN §4): an
external sender, an Add or Remove proposal, no authenticated data, and a signature by a
coordinator device the transparency log names (checkable without group secrets: an
external sender's FramedContentTBS has no group context). Application data or a member's
handshake as PublicMessage would be readable by the relay, and fails.
"""

from __future__ import annotations

from collections.abc import Callable

from client.audit.cleartext import cleartext_evidence
from client.audit.results import Evidence
from client.audit.sizes import SENDER_DATA_CIPHERTEXT_SIZE, is_padded_ciphertext
from client.audit.translog import LogView
from crypto.errors import CasecircleError
from crypto.labels import verify_with_label
from crypto.suites import cipher_suite
from protocol.case_envelope import parse_envelope
from protocol.directory import parse_mls_credential
from protocol.mls.constants import ContentType, SenderType, WireFormat
from protocol.mls.framing import MLSMessage, PrivateMessage, PublicMessage, framed_content_tbs
from protocol.mls.message_protection import CONTENT_SIGNATURE_LABEL
from protocol.mls.proposals import Add, Proposal, Remove

Subject = str


def check_group_message(
    subject: Subject, group_id: bytes, payload: bytes, view: LogView | None, evidence: Evidence
) -> None:
    """Apply the rules to one stored message; failures go to ``evidence``."""
    try:
        message = MLSMessage.from_bytes(payload)
    except (CasecircleError, ValueError) as exc:
        reason = cleartext_evidence(payload)
        evidence.fail(subject, f"not an MLSMessage ({exc})" + (f"; {reason}" if reason else ""))
        return
    handler = _HANDLERS.get(type(message.body))
    if handler is None:
        evidence.fail(
            subject, f"a {WireFormat(message.wire_format).name} where only group messages belong"
        )
        return
    handler(subject, group_id, message, view, evidence)


def _private(
    subject: Subject, group_id: bytes, message: MLSMessage, _: LogView | None, evidence: Evidence
) -> None:
    body = message.body
    assert isinstance(body, PrivateMessage)
    evidence.count("PrivateMessages")
    if body.group_id != group_id:
        evidence.fail(subject, "stored under another group than the one its header names")
    sealed = (("ciphertext", body.ciphertext), ("sender data", body.encrypted_sender_data))
    for name, value in sealed:
        reason = cleartext_evidence(value)
        if reason:
            evidence.fail(subject, f"its {name} is not ciphertext: {reason}")
    if len(body.encrypted_sender_data) != SENDER_DATA_CIPHERTEXT_SIZE:
        evidence.fail(subject, f"encrypted sender data of {len(body.encrypted_sender_data)} bytes")
    if is_padded_ciphertext(len(body.ciphertext)):
        evidence.count("padded ciphertexts")
    else:
        evidence.fail(subject, f"a ciphertext of {len(body.ciphertext)} bytes: not a padded size")
    if body.content_type == ContentType.APPLICATION:
        _envelope(subject, body.authenticated_data, evidence)
    elif body.authenticated_data:
        evidence.fail(
            subject,
            f"a {ContentType(body.content_type).name.lower()} with"
            f" {len(body.authenticated_data)} bytes of authenticated data in the clear",
        )


def _envelope(subject: Subject, data: bytes, evidence: Evidence) -> None:
    try:
        envelope = parse_envelope(data)
    except (CasecircleError, ValueError) as exc:
        reason = cleartext_evidence(data)
        evidence.fail(
            subject,
            f"its authenticated data (in the clear) is not a case envelope ({exc})"
            + (f"; {reason}" if reason else ""),
        )
        return
    evidence.count("case envelopes")
    reason = cleartext_evidence(envelope.ciphertext)
    if reason:
        evidence.fail(subject, f"its case envelope is not ciphertext: {reason}")
    if is_padded_ciphertext(len(envelope.ciphertext)):
        evidence.count("padded ciphertexts")
    else:
        evidence.fail(
            subject, f"a case envelope of {len(envelope.ciphertext)} bytes: not a padded size"
        )


def _public(
    subject: Subject, group_id: bytes, message: MLSMessage, view: LogView | None, evidence: Evidence
) -> None:
    body = message.body
    assert isinstance(body, PublicMessage)
    content = body.content
    evidence.count("PublicMessages")
    if content.group_id != group_id:
        evidence.fail(subject, "stored under another group than the one its header names")
    if content.content_type == ContentType.APPLICATION:
        evidence.fail(subject, "application data sent as a PublicMessage: readable by the relay")
        return
    if content.sender.sender_type != SenderType.EXTERNAL:
        kind = ContentType(content.content_type).name.lower()
        evidence.fail(
            subject,
            f"a member's {kind} sent as a PublicMessage: the membership change is readable by"
            " the relay (members' handshake messages travel as PrivateMessage)",
        )
        return
    if not isinstance(content.content, Proposal) or not isinstance(
        content.content.body, Add | Remove
    ):
        evidence.fail(subject, "an external sender's message that is not an Add or Remove proposal")
        return
    if content.authenticated_data:
        evidence.fail(subject, "an external proposal with authenticated data in the clear")
    if view is not None:
        _coordinator_signature(subject, body, view, evidence)
        added = content.content.body
        if isinstance(added, Add):
            _added_credential(subject, added, view, evidence)


def _coordinator_signature(
    subject: Subject, body: PublicMessage, view: LogView, evidence: Evidence
) -> None:
    tbs = framed_content_tbs(WireFormat.MLS_PUBLIC_MESSAGE, body.content, None)
    for suite_id, key in sorted(view.coordinator_keys()):
        try:
            verify_with_label(
                cipher_suite(suite_id), key, CONTENT_SIGNATURE_LABEL, tbs, body.auth.signature
            )
        except CasecircleError:
            continue
        evidence.count("external proposals signed by a logged coordinator device")
        return
    evidence.fail(subject, "an external proposal not signed by any coordinator device in the log")


def _added_credential(subject: Subject, add: Add, view: LogView, evidence: Evidence) -> None:
    try:
        signed = parse_mls_credential(add.key_package.leaf_node.credential)
    except (CasecircleError, ValueError):
        evidence.fail(subject, "an Add proposal whose KeyPackage holds no casecircle credential")
        return
    if signed.to_bytes() not in view.statements():
        evidence.fail(subject, "an Add proposal for a credential that is not in the log")


_Handler = Callable[[Subject, bytes, MLSMessage, LogView | None, Evidence], None]
_HANDLERS: dict[type, _Handler] = {PrivateMessage: _private, PublicMessage: _public}
