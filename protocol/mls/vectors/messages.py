"""messages.json: every field decodes as its structure and re-encodes to the same bytes.

The ``mls_*``, ``public_message_*`` and ``private_message`` fields are whole MLSMessages, of
the wire format (and for public messages the content type) their name says; the others are
the bare structures of §7, §12 and §12.4.3 (RFC 9420).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from protocol.codec import Struct
from protocol.mls.constants import ContentType, WireFormat
from protocol.mls.framing import MLSMessage, PublicMessage
from protocol.mls.proposals import (
    Add,
    Commit,
    ExternalInit,
    GroupContextExtensions,
    PreSharedKey,
    ReInit,
    Remove,
    Update,
)
from protocol.mls.tree_nodes import RatchetTreeExtension
from protocol.mls.vectors import VectorCase
from protocol.mls.vectors.checks import expect_equal, unhex
from protocol.mls.welcome import GroupSecrets

S = TypeVar("S", bound=Struct)

BARE_STRUCTS: dict[str, type[Struct]] = {
    "ratchet_tree": RatchetTreeExtension,
    "group_secrets": GroupSecrets,
    "add_proposal": Add,
    "update_proposal": Update,
    "remove_proposal": Remove,
    "pre_shared_key_proposal": PreSharedKey,
    "re_init_proposal": ReInit,
    "external_init_proposal": ExternalInit,
    "group_context_extensions_proposal": GroupContextExtensions,
    "commit": Commit,
}

MESSAGES: dict[str, WireFormat] = {
    "mls_welcome": WireFormat.MLS_WELCOME,
    "mls_group_info": WireFormat.MLS_GROUP_INFO,
    "mls_key_package": WireFormat.MLS_KEY_PACKAGE,
    "public_message_application": WireFormat.MLS_PUBLIC_MESSAGE,
    "public_message_proposal": WireFormat.MLS_PUBLIC_MESSAGE,
    "public_message_commit": WireFormat.MLS_PUBLIC_MESSAGE,
    "private_message": WireFormat.MLS_PRIVATE_MESSAGE,
}

PUBLIC_CONTENT: dict[str, ContentType] = {
    "public_message_application": ContentType.APPLICATION,
    "public_message_proposal": ContentType.PROPOSAL,
    "public_message_commit": ContentType.COMMIT,
}


def _round_trip(name: str, data: bytes, decode: Callable[[bytes], S]) -> S:
    value = decode(data)
    expect_equal(f"{name} re-encoding", value.to_bytes(), data)
    return value


def run_case(case: VectorCase) -> None:
    expect_equal("fields", set(case), set(BARE_STRUCTS) | set(MESSAGES))
    for name, struct in BARE_STRUCTS.items():
        _round_trip(name, unhex(case[name]), struct.from_bytes)
    for name, wire_format in MESSAGES.items():
        message = _round_trip(name, unhex(case[name]), MLSMessage.from_bytes)
        expect_equal(f"{name} wire format", message.wire_format, wire_format)
        if isinstance(message.body, PublicMessage):
            content_type = message.body.content.content_type
            expect_equal(f"{name} content type", content_type, PUBLIC_CONTENT[name])
