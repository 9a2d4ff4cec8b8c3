"""Message protection (§6): round trips, and a typed rejection for every check."""

from __future__ import annotations

import pytest

from crypto.errors import InvalidSignatureError, InvalidTagError
from crypto.suites import SUPPORTED_SUITE_IDS, CipherSuite, cipher_suite
from protocol.errors import (
    DecodeError,
    ReplayError,
    UnknownSenderError,
    WrongEpochError,
    WrongGroupError,
)
from protocol.mls.constants import ContentType, WireFormat
from protocol.mls.framing import (
    ApplicationData,
    AuthenticatedContent,
    Content,
    FramedContent,
    PrivateMessage,
    PublicMessage,
    Sender,
    SenderData,
)
from protocol.mls.group_context import GroupContext
from protocol.mls.message_protection import (
    ForbiddenWireFormatError,
    MembershipTagError,
    SenderMismatchError,
    protect_private,
    protect_public,
    sign_content,
    unprotect_private,
    unprotect_public,
)
from protocol.mls.proposals import Commit, Proposal, Remove, Update
from protocol.mls.secret_tree import RatchetKind, SecretTree, sender_data_key
from tests.helpers import DeterministicRandom
from tests.protocol.mls.samples import leaf_node

N_LEAVES = 4
SENDER = 2


class Epoch:
    """One epoch's secrets, shared by a sender and a receiver with their own secret trees."""

    def __init__(self, suite: CipherSuite) -> None:
        self.suite = suite
        rng = DeterministicRandom(f"epoch {suite.suite_id}")
        self.rng = rng
        n = suite.hash_size
        self.context = GroupContext(
            cipher_suite=suite.suite_id,
            group_id=b"case-group",
            epoch=7,
            tree_hash=rng.random_bytes(n),
            confirmed_transcript_hash=rng.random_bytes(n),
        )
        self.encryption_secret = rng.random_bytes(n)
        self.sender_data_secret = rng.random_bytes(n)
        self.membership_key = rng.random_bytes(n)
        self.signing_key = suite.signature.generate(rng)
        self.sender_tree = self.tree()
        self.receiver_tree = self.tree()

    def tree(self) -> SecretTree:
        return SecretTree(self.suite, self.encryption_secret, N_LEAVES)

    def framed(self, content: Content, **changes: object) -> FramedContent:
        fields: dict[str, object] = {
            "group_id": self.context.group_id,
            "epoch": self.context.epoch,
            "sender": Sender.member(SENDER),
            "content": content,
        }
        fields.update(changes)
        return FramedContent(**fields)  # type: ignore[arg-type]

    def sign(
        self, content: Content, wire_format: WireFormat, **changes: object
    ) -> AuthenticatedContent:
        return sign_content(
            self.suite, self.signing_key, wire_format, self.framed(content, **changes), self.context
        )

    def seal(self, content: Content, **changes: object) -> PrivateMessage:
        signed = self.sign(content, WireFormat.MLS_PRIVATE_MESSAGE, **changes)
        return protect_private(
            self.suite, signed, self.sender_tree, self.sender_data_secret, self.rng
        )

    def open(self, message: PrivateMessage) -> AuthenticatedContent:
        unverified = unprotect_private(
            self.suite,
            message,
            self.receiver_tree,
            self.sender_data_secret,
            self.context,
            is_member=lambda leaf: leaf in {0, SENDER},
        )
        return unverified.verify(self.suite, self.signing_key.public_key, self.context)

    def public(self, content: Content) -> PublicMessage:
        signed = self.sign(content, WireFormat.MLS_PUBLIC_MESSAGE)
        return protect_public(self.suite, signed, self.membership_key, self.context)

    def open_public(self, message: PublicMessage) -> AuthenticatedContent:
        unverified = unprotect_public(self.suite, message, self.membership_key, self.context)
        return unverified.verify(self.suite, self.signing_key.public_key, self.context)


@pytest.fixture(params=SUPPORTED_SUITE_IDS, ids=lambda s: f"suite{s}")
def epoch(request: pytest.FixtureRequest) -> Epoch:
    return Epoch(cipher_suite(request.param))


NOTE = ApplicationData(data=b"the note text")
REMOVE = Proposal(body=Remove(removed=1))


def flip(data: bytes, index: int = -1) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def test_private_round_trip(epoch: Epoch) -> None:
    for content in (NOTE, REMOVE):
        message = PrivateMessage.from_bytes(epoch.seal(content).to_bytes())
        opened = epoch.open(message)
        assert opened.content.content == content
        assert opened.content.sender == Sender.member(SENDER)


def test_public_round_trip(epoch: Epoch) -> None:
    message = PublicMessage.from_bytes(epoch.public(REMOVE).to_bytes())
    assert epoch.open_public(message).content.content == REMOVE


def test_short_messages_are_padded_to_one_size(epoch: Epoch) -> None:
    sizes = {len(epoch.seal(ApplicationData(data=b"x" * n)).ciphertext) for n in (0, 1, 50, 100)}
    assert len(sizes) == 1


def test_reuse_guard_changes_the_nonce(epoch: Epoch) -> None:
    message = epoch.seal(NOTE)
    key = epoch.tree().key_for(SENDER, RatchetKind.APPLICATION, 0)
    with pytest.raises(InvalidTagError):  # the schedule's nonce alone does not open it
        epoch.suite.aead.open(key.key, key.nonce, message.content_aad(), message.ciphertext)


def test_tampered_ciphertext_is_rejected_and_does_not_burn_the_key(epoch: Epoch) -> None:
    genuine = epoch.seal(NOTE)
    # Authenticated data is covered by the content AAD, not by the sender data.
    tampered = PrivateMessage(
        group_id=genuine.group_id,
        epoch=genuine.epoch,
        content_type=genuine.content_type,
        authenticated_data=b"rewritten",
        encrypted_sender_data=genuine.encrypted_sender_data,
        ciphertext=genuine.ciphertext,
    )
    with pytest.raises(InvalidTagError):
        epoch.open(tampered)
    assert epoch.open(genuine).content.content == NOTE


@pytest.mark.parametrize("field", ["ciphertext", "encrypted_sender_data"])
def test_flipped_bit_is_an_invalid_tag(epoch: Epoch, field: str) -> None:
    message = epoch.seal(NOTE)
    data = {name: getattr(message, name) for name in PrivateMessage.__dataclass_fields__}
    data[field] = flip(data[field])
    with pytest.raises(InvalidTagError):
        epoch.open(PrivateMessage(**data))


def test_replayed_message_is_rejected(epoch: Epoch) -> None:
    message = epoch.seal(NOTE)
    epoch.open(message)
    with pytest.raises(ReplayError):
        epoch.open(message)


def test_wrong_group_and_epoch_are_rejected(epoch: Epoch) -> None:
    with pytest.raises(WrongGroupError):
        epoch.open(epoch.seal(NOTE, group_id=b"another case"))
    with pytest.raises(WrongEpochError):
        epoch.open(epoch.seal(NOTE, epoch=6))
    public = epoch.public(REMOVE)
    other_epoch = PublicMessage(
        content=epoch.framed(REMOVE, epoch=8),
        auth=public.auth,
        membership_tag=public.membership_tag,
    )
    with pytest.raises(WrongEpochError):
        epoch.open_public(other_epoch)


def test_sender_at_a_blank_leaf_is_unknown(epoch: Epoch) -> None:
    message = epoch.seal(NOTE, sender=Sender.member(1))
    with pytest.raises(UnknownSenderError):
        epoch.open(message)


def test_signature_by_another_key_is_rejected(epoch: Epoch) -> None:
    impostor = epoch.suite.signature.generate(DeterministicRandom("impostor"))
    signed = sign_content(
        epoch.suite,
        impostor,
        WireFormat.MLS_PRIVATE_MESSAGE,
        epoch.framed(NOTE),
        epoch.context,
    )
    message = protect_private(
        epoch.suite, signed, epoch.sender_tree, epoch.sender_data_secret, epoch.rng
    )
    with pytest.raises(InvalidSignatureError):
        epoch.open(message)


def test_signature_over_the_other_wire_format_is_rejected(epoch: Epoch) -> None:
    signed = epoch.sign(REMOVE, WireFormat.MLS_PUBLIC_MESSAGE)
    with pytest.raises(SenderMismatchError):
        protect_private(epoch.suite, signed, epoch.sender_tree, epoch.sender_data_secret, epoch.rng)


def test_membership_tag_is_checked(epoch: Epoch) -> None:
    message = epoch.public(REMOVE)
    assert message.membership_tag is not None
    forged = PublicMessage(
        content=message.content, auth=message.auth, membership_tag=flip(message.membership_tag)
    )
    with pytest.raises(MembershipTagError):
        epoch.open_public(forged)


def test_public_signature_is_checked(epoch: Epoch) -> None:
    message = epoch.public(REMOVE)
    other = epoch.sign(Proposal(body=Remove(removed=3)), WireFormat.MLS_PUBLIC_MESSAGE)
    spliced = protect_public(
        epoch.suite,
        AuthenticatedContent(
            wire_format=other.wire_format, content=message.content, auth=other.auth
        ),
        epoch.membership_key,
        epoch.context,
    )
    with pytest.raises(InvalidSignatureError):
        epoch.open_public(spliced)


def test_application_data_is_never_public(epoch: Epoch) -> None:
    signed = epoch.sign(NOTE, WireFormat.MLS_PUBLIC_MESSAGE)
    with pytest.raises(ForbiddenWireFormatError):
        protect_public(epoch.suite, signed, epoch.membership_key, epoch.context)
    smuggled = PublicMessage(
        content=signed.content,
        auth=signed.auth,
        membership_tag=epoch.suite.mac(epoch.membership_key, signed.tbm(epoch.context)),
    )
    with pytest.raises(ForbiddenWireFormatError):
        epoch.open_public(smuggled)


def test_non_zero_padding_is_malformed(epoch: Epoch) -> None:
    """Encrypt, by hand, a plaintext whose padding hides a byte: it must be refused."""
    suite = epoch.suite
    signed = epoch.sign(NOTE, WireFormat.MLS_PRIVATE_MESSAGE)
    plaintext = NOTE.to_bytes() + signed.auth.to_bytes() + b"\x00\x00\x01\x00"
    key = epoch.sender_tree.next_key(SENDER, RatchetKind.APPLICATION)
    header = PrivateMessage(
        group_id=epoch.context.group_id,
        epoch=epoch.context.epoch,
        content_type=ContentType.APPLICATION,
        encrypted_sender_data=b"",
        ciphertext=b"",
    )
    guard = b"\x00\x00\x00\x00"
    ciphertext = suite.aead.seal(key.key, key.nonce, header.content_aad(), plaintext)
    data_key = sender_data_key(suite, epoch.sender_data_secret, ciphertext)
    sender_data = SenderData(leaf_index=SENDER, generation=key.generation, reuse_guard=guard)
    message = PrivateMessage(
        group_id=header.group_id,
        epoch=header.epoch,
        content_type=ContentType.APPLICATION,
        encrypted_sender_data=suite.aead.seal(
            data_key.key, data_key.nonce, header.sender_data_aad(), sender_data.to_bytes()
        ),
        ciphertext=ciphertext,
    )
    with pytest.raises(DecodeError, match="padding"):
        epoch.open(message)


def _external(epoch: Epoch, sender: Sender, content: Content) -> PublicMessage:
    signed = sign_content(
        epoch.suite,
        epoch.signing_key,
        WireFormat.MLS_PUBLIC_MESSAGE,
        epoch.framed(content, sender=sender),
        epoch.context,
        bytes(epoch.suite.hash_size) if isinstance(content, Commit) else None,
    )
    return PublicMessage.from_authenticated_content(signed, None)


@pytest.mark.parametrize(
    ("sender", "content"),
    [
        (Sender.external(0), Commit()),
        (Sender.external(0), Proposal(body=Update(leaf_node=leaf_node()))),
        (Sender.new_member_proposal(), REMOVE),
        (Sender.new_member_commit(), REMOVE),
        (Sender.new_member_proposal(), Commit()),
    ],
    ids=[
        "external-commit",
        "external-update",
        "joiner-remove",
        "commit-sender-proposal",
        "joiner-commit",
    ],
)
def test_senders_may_only_send_what_their_kind_allows(
    epoch: Epoch, sender: Sender, content: Content
) -> None:
    with pytest.raises(SenderMismatchError):
        unprotect_public(
            epoch.suite, _external(epoch, sender, content), epoch.membership_key, epoch.context
        )


def test_external_sender_may_propose_a_removal(epoch: Epoch) -> None:
    message = _external(epoch, Sender.external(0), REMOVE)
    unverified = unprotect_public(epoch.suite, message, epoch.membership_key, epoch.context)
    verified = unverified.verify(epoch.suite, epoch.signing_key.public_key, epoch.context)
    assert verified.content.content == REMOVE


def test_sender_data_leaf_outside_the_tree_is_unknown(epoch: Epoch) -> None:
    message = epoch.seal(NOTE)
    with pytest.raises(UnknownSenderError):
        unprotect_private(
            epoch.suite,
            message,
            SecretTree(epoch.suite, epoch.encryption_secret, 2),
            epoch.sender_data_secret,
            epoch.context,
            is_member=lambda leaf: True,
        )
