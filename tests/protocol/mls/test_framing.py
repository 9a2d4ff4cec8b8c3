"""Framing structures (RFC 9420 §6, §8.2): senders, content, auth, both message kinds."""

from __future__ import annotations

import dataclasses

import pytest

from protocol.errors import DecodeError
from protocol.mls.constants import ContentType, SenderType, WireFormat
from protocol.mls.framing import (
    ApplicationData,
    AuthenticatedContent,
    ConfirmedTranscriptHashInput,
    Content,
    FramedContent,
    FramedContentAuthData,
    InterimTranscriptHashInput,
    MLSMessage,
    PrivateContentAAD,
    PrivateMessage,
    PrivateMessageContent,
    PublicMessage,
    Sender,
    SenderData,
    SenderDataAAD,
    content_type_of,
    framed_content_tbs,
)
from protocol.mls.proposals import Commit
from tests.protocol.mls import samples

SENDERS = [
    Sender.member(7),
    Sender.external(2),
    Sender.new_member_proposal(),
    Sender.new_member_commit(),
]
CONTENTS = samples.contents()
# In the sample framed content: group_id "group", epoch, a member sender, "aad", content type.
CONTENT_TYPE_OFFSET = 6 + 8 + 5 + 4


@pytest.mark.parametrize(
    ("sender", "encoded"),
    list(zip(SENDERS, ["0100000007", "0200000002", "03", "04"], strict=True)),
)
def test_sender_layout_and_round_trip(sender: Sender, encoded: str) -> None:
    assert sender.to_bytes().hex() == encoded
    assert Sender.from_bytes(bytes.fromhex(encoded)) == sender


def test_sender_index_must_match_its_type() -> None:
    with pytest.raises(ValueError, match="index"):
        Sender(sender_type=SenderType.MEMBER)
    with pytest.raises(ValueError, match="index"):
        Sender(sender_type=SenderType.NEW_MEMBER_COMMIT, index=0)


@pytest.mark.parametrize("tag", [0, 5, 0xFF])
def test_unknown_sender_type_is_refused(tag: int) -> None:
    with pytest.raises(DecodeError, match="unknown SenderType"):
        Sender.from_bytes(bytes([tag]) + b"\x00" * 4)


@pytest.mark.parametrize("content", CONTENTS, ids=lambda c: type(c).__name__)
def test_framed_content_round_trip(content: Content) -> None:
    framed = samples.framed_content(content)
    encoded = framed.to_bytes()
    decoded = FramedContent.from_bytes(encoded)
    assert decoded == framed
    assert decoded.content_type == content_type_of(content)
    assert encoded[CONTENT_TYPE_OFFSET] == decoded.content_type


@pytest.mark.parametrize("tag", [0, 4])
def test_unknown_content_type_is_refused(tag: int) -> None:
    encoded = bytearray(samples.framed_content(CONTENTS[0]).to_bytes())
    encoded[CONTENT_TYPE_OFFSET] = tag
    with pytest.raises(DecodeError, match="unknown ContentType"):
        FramedContent.from_bytes(bytes(encoded))


def test_confirmation_tag_is_read_only_for_commits() -> None:
    auth = FramedContentAuthData(signature=b"s", confirmation_tag=b"t")
    encoded = auth.to_bytes()
    assert FramedContentAuthData.from_bytes(encoded, ContentType.COMMIT) == auth
    with pytest.raises(DecodeError, match="trailing"):
        FramedContentAuthData.from_bytes(encoded, ContentType.PROPOSAL)
    with pytest.raises(DecodeError, match="truncated"):
        FramedContentAuthData.from_bytes(b"\x01s", ContentType.COMMIT)


@pytest.mark.parametrize("content", CONTENTS, ids=lambda c: type(c).__name__)
def test_authenticated_content_round_trip(content: Content) -> None:
    authenticated = samples.authenticated_content(content)
    assert AuthenticatedContent.from_bytes(authenticated.to_bytes()) == authenticated


def test_auth_must_agree_with_the_content_type() -> None:
    framed = samples.framed_content(CONTENTS[0])
    with pytest.raises(ValueError, match="confirmation tag"):
        AuthenticatedContent(
            wire_format=WireFormat.MLS_PUBLIC_MESSAGE,
            content=framed,
            auth=FramedContentAuthData(signature=b"s", confirmation_tag=b"t"),
        )
    with pytest.raises(ValueError, match="confirmation tag"):
        PrivateMessageContent(content=samples.commit(), auth=FramedContentAuthData(signature=b"s"))


@pytest.mark.parametrize("wire_format", [0, 6, 0xF000])
def test_authenticated_content_with_unknown_wire_format_is_refused(wire_format: int) -> None:
    encoded = samples.authenticated_content(CONTENTS[0]).to_bytes()
    with pytest.raises(DecodeError, match="unknown WireFormat"):
        AuthenticatedContent.from_bytes(wire_format.to_bytes(2, "big") + encoded[2:])


@pytest.mark.parametrize("sender", SENDERS, ids=lambda s: SenderType(s.sender_type).name)
def test_tbs_covers_the_group_context_for_members_and_external_commits(sender: Sender) -> None:
    framed = samples.framed_content(CONTENTS[1], sender)
    context = samples.group_context()
    head = b"\x00\x01\x00\x01" + framed.to_bytes()
    if sender.sender_type in (SenderType.MEMBER, SenderType.NEW_MEMBER_COMMIT):
        assert framed_content_tbs(WireFormat.MLS_PUBLIC_MESSAGE, framed, context) == (
            head + context.to_bytes()
        )
        with pytest.raises(ValueError, match="needs group context"):
            framed_content_tbs(WireFormat.MLS_PUBLIC_MESSAGE, framed, None)
    else:
        assert framed_content_tbs(WireFormat.MLS_PUBLIC_MESSAGE, framed, None) == head
        with pytest.raises(ValueError, match="takes no group context"):
            framed_content_tbs(WireFormat.MLS_PUBLIC_MESSAGE, framed, context)


def test_tbs_depends_on_the_wire_format_and_tbm_appends_auth() -> None:
    authenticated = samples.authenticated_content(CONTENTS[2])
    context = samples.group_context()
    private = dataclasses.replace(authenticated, wire_format=WireFormat.MLS_PRIVATE_MESSAGE)
    assert authenticated.tbs(context) != private.tbs(context)
    assert authenticated.tbm(context) == authenticated.tbs(context) + authenticated.auth.to_bytes()


def test_transcript_hash_inputs() -> None:
    authenticated = samples.authenticated_content(samples.commit())
    confirmed = authenticated.confirmed_transcript_hash_input()
    assert confirmed == (
        b"\x00\x01" + authenticated.content.to_bytes() + b"\x40\x40" + authenticated.auth.signature
    )
    parsed = ConfirmedTranscriptHashInput.from_bytes(confirmed)
    assert parsed.content == authenticated.content
    interim = authenticated.interim_transcript_hash_input()
    assert interim == b"\x20" + b"T" * 32
    assert InterimTranscriptHashInput.from_bytes(interim).confirmation_tag == b"T" * 32


def test_transcript_inputs_exist_only_for_commits() -> None:
    proposal = samples.authenticated_content(CONTENTS[1])
    with pytest.raises(ValueError, match="commit"):
        proposal.confirmed_transcript_hash_input()
    with pytest.raises(ValueError, match="only a commit"):
        proposal.interim_transcript_hash_input()
    not_commit = b"\x00\x01" + proposal.content.to_bytes() + b"\x00"
    with pytest.raises(DecodeError, match="must carry a commit"):
        ConfirmedTranscriptHashInput.from_bytes(not_commit)


@pytest.mark.parametrize("sender", SENDERS, ids=lambda s: SenderType(s.sender_type).name)
def test_public_message_membership_tag_only_for_members(sender: Sender) -> None:
    message = samples.public_message(CONTENTS[1], sender)
    assert (message.membership_tag is not None) == (sender.sender_type == SenderType.MEMBER)
    assert PublicMessage.from_bytes(message.to_bytes()) == message
    with pytest.raises(ValueError, match="membership tag"):
        dataclasses.replace(message, membership_tag=None if message.membership_tag else b"M" * 32)


def test_public_message_and_authenticated_content_convert() -> None:
    message = samples.public_message(samples.commit())
    authenticated = message.authenticated_content()
    assert authenticated.wire_format is WireFormat.MLS_PUBLIC_MESSAGE
    rebuilt = PublicMessage.from_authenticated_content(authenticated, message.membership_tag)
    assert rebuilt == message
    private = dataclasses.replace(authenticated, wire_format=WireFormat.MLS_PRIVATE_MESSAGE)
    with pytest.raises(ValueError, match="another wire format"):
        PublicMessage.from_authenticated_content(private, message.membership_tag)


def test_public_message_missing_membership_tag_is_refused() -> None:
    encoded = samples.public_message(CONTENTS[0]).to_bytes()
    with pytest.raises(DecodeError, match="truncated"):
        PublicMessage.from_bytes(encoded[:-33])


def test_private_message_round_trip_and_aads() -> None:
    message = samples.private_message()
    assert PrivateMessage.from_bytes(message.to_bytes()) == message
    sender_aad = message.sender_data_aad()
    assert sender_aad == b"\x05group" + (4).to_bytes(8, "big") + b"\x01"
    assert SenderDataAAD.from_bytes(sender_aad).content_type is ContentType.APPLICATION
    content_aad = message.content_aad()
    assert content_aad == sender_aad + b"\x03aad"
    assert PrivateContentAAD.from_bytes(content_aad).authenticated_data == b"aad"


def test_sender_data_layout() -> None:
    data = SenderData(leaf_index=1, generation=2, reuse_guard=b"\xde\xad\xbe\xef")
    assert data.to_bytes().hex() == "00000001" + "00000002" + "deadbeef"
    assert SenderData.from_bytes(data.to_bytes()) == data
    with pytest.raises(ValueError, match="4 bytes"):
        SenderData(leaf_index=1, generation=2, reuse_guard=b"\x00")
    with pytest.raises(DecodeError, match="truncated"):
        SenderData.from_bytes(data.to_bytes()[:-1])


@pytest.mark.parametrize("content", CONTENTS, ids=lambda c: type(c).__name__)
@pytest.mark.parametrize("padding", [0, 1, 300])
def test_private_message_content_round_trip_with_padding(content: Content, padding: int) -> None:
    plaintext = PrivateMessageContent(
        content=content, auth=samples.auth_for(content), padding=padding
    )
    encoded = plaintext.to_bytes()
    assert encoded.endswith(bytes(padding))
    content_type = content_type_of(content)
    assert PrivateMessageContent.from_bytes(encoded, content_type) == plaintext


def test_private_message_content_layout() -> None:
    plaintext = PrivateMessageContent(
        content=ApplicationData(data=b"hi"), auth=FramedContentAuthData(signature=b"s"), padding=2
    )
    assert plaintext.to_bytes() == b"\x02hi" + b"\x01s" + b"\x00\x00"


@pytest.mark.parametrize("position", [0, 5, -1])
def test_non_zero_padding_is_refused(position: int) -> None:
    content = CONTENTS[0]
    plaintext = PrivateMessageContent(content=content, auth=samples.auth_for(content), padding=6)
    encoded = bytearray(plaintext.to_bytes())
    encoded[len(encoded) - 6 + position if position >= 0 else position] = 1
    with pytest.raises(DecodeError, match="padding"):
        PrivateMessageContent.from_bytes(bytes(encoded), ContentType.APPLICATION)


def test_private_message_content_needs_a_valid_content_type() -> None:
    plaintext = PrivateMessageContent(content=CONTENTS[0], auth=samples.auth_for(CONTENTS[0]))
    with pytest.raises(DecodeError, match="unknown ContentType"):
        PrivateMessageContent.from_bytes(plaintext.to_bytes(), 0)  # type: ignore[arg-type]


def test_commit_content_is_not_an_application_message() -> None:
    commit = samples.commit()
    plaintext = PrivateMessageContent(content=commit, auth=samples.auth_for(commit))
    with pytest.raises(DecodeError):
        PrivateMessageContent.from_bytes(plaintext.to_bytes(), ContentType.APPLICATION)


MESSAGE_BODIES = [
    samples.public_message(CONTENTS[2]),
    samples.private_message(),
    samples.welcome(),
    samples.group_info(),
    samples.key_package(),
]


@pytest.mark.parametrize("body", MESSAGE_BODIES, ids=lambda b: type(b).__name__)
def test_mls_message_round_trip(body: object) -> None:
    message = MLSMessage(body=body)  # type: ignore[arg-type]
    encoded = message.to_bytes()
    assert encoded[:2] == b"\x00\x01"
    assert int.from_bytes(encoded[2:4], "big") == message.wire_format
    assert encoded[4:] == message.body.to_bytes()
    assert MLSMessage.from_bytes(encoded) == message


@pytest.mark.parametrize("wire_format", [0, 6, 0xF000])
def test_mls_message_with_unknown_wire_format_is_refused(wire_format: int) -> None:
    encoded = b"\x00\x01" + wire_format.to_bytes(2, "big") + samples.welcome().to_bytes()
    with pytest.raises(DecodeError, match="unknown WireFormat"):
        MLSMessage.from_bytes(encoded)


@pytest.mark.parametrize("version", [0, 2, 0x0A0A])
def test_mls_message_of_another_version_is_refused(version: int) -> None:
    encoded = version.to_bytes(2, "big") + MLSMessage(body=samples.welcome()).to_bytes()[2:]
    with pytest.raises(DecodeError, match="protocol version"):
        MLSMessage.from_bytes(encoded)


def test_key_package_version_must_match_the_message() -> None:
    package = dataclasses.replace(samples.key_package(), version=2)
    encoded = b"\x00\x01\x00\x05" + package.to_bytes()
    with pytest.raises(DecodeError, match="key package of version 2"):
        MLSMessage.from_bytes(encoded)


def test_application_data_layout() -> None:
    assert ApplicationData(data=b"x" * 64).to_bytes() == b"\x40\x40" + b"x" * 64
    assert content_type_of(Commit()) is ContentType.COMMIT
