"""Hand-built MLS structures for the codec tests: one valid value of every kind."""

from __future__ import annotations

from protocol.mls.constants import (
    GREASE_VALUES,
    CredentialType,
    LeafNodeSource,
    ResumptionPSKUsage,
    SenderType,
    WireFormat,
)
from protocol.mls.credentials import BasicCredential, Credential, X509Credential
from protocol.mls.extensions import (
    ApplicationId,
    Extension,
    ExternalPub,
    ExternalSender,
    ExternalSenders,
    RequiredCapabilities,
)
from protocol.mls.framing import (
    ApplicationData,
    AuthenticatedContent,
    Content,
    FramedContent,
    FramedContentAuthData,
    PrivateMessage,
    PublicMessage,
    Sender,
)
from protocol.mls.group_context import GroupContext
from protocol.mls.key_package import KeyPackage
from protocol.mls.leaf_node import Capabilities, LeafNode, Lifetime
from protocol.mls.proposals import (
    Add,
    Commit,
    ExternalInit,
    ExternalPSKID,
    GroupContextExtensions,
    PreSharedKey,
    Proposal,
    ProposalBody,
    ProposalOrRef,
    ReInit,
    Remove,
    ResumptionPSKID,
    Update,
)
from protocol.mls.tree_nodes import (
    HPKECiphertext,
    Node,
    ParentNode,
    UpdatePath,
    UpdatePathNode,
)
from protocol.mls.welcome import (
    EncryptedGroupSecrets,
    GroupInfo,
    GroupSecrets,
    PathSecret,
    Welcome,
)

GREASE = min(GREASE_VALUES)


def credential(identity: bytes = b"alice") -> Credential:
    return BasicCredential(identity=identity)


def x509_credential() -> X509Credential:
    return X509Credential(certificates=(b"\x30\x03leaf", b"\x30\x03root"))


def capabilities() -> Capabilities:
    return Capabilities(
        cipher_suites=(1, 2, GREASE),
        extensions=(0xF001, GREASE),
        proposals=(GREASE,),
        credentials=(CredentialType.BASIC, CredentialType.X509, GREASE),
    )


def extensions() -> tuple[Extension, ...]:
    return (
        ApplicationId(application_id=b"device-7").to_extension(),
        Extension(extension_type=GREASE, extension_data=b"\x01\x02"),
    )


def leaf_node(source: LeafNodeSource = LeafNodeSource.KEY_PACKAGE) -> LeafNode:
    return LeafNode(
        encryption_key=b"E" * 32,
        signature_key=b"S" * 32,
        credential=credential(),
        capabilities=capabilities(),
        leaf_node_source=source,
        lifetime=(
            Lifetime(not_before=0, not_after=2**64 - 1)
            if source == LeafNodeSource.KEY_PACKAGE
            else None
        ),
        parent_hash=b"P" * 32 if source == LeafNodeSource.COMMIT else None,
        extensions=extensions(),
        signature=b"sig" * 21,
    )


def key_package() -> KeyPackage:
    return KeyPackage(
        cipher_suite=1,
        init_key=b"I" * 32,
        leaf_node=leaf_node(),
        extensions=(Extension(extension_type=GREASE, extension_data=b""),),
        signature=b"kp-signature",
    )


def parent_node() -> ParentNode:
    return ParentNode(encryption_key=b"Q" * 32, parent_hash=b"h" * 32, unmerged_leaves=(1, 3))


def ratchet_tree() -> tuple[Node | None, ...]:
    return (leaf_node(LeafNodeSource.COMMIT), parent_node(), None, None, leaf_node())


def update_path() -> UpdatePath:
    return UpdatePath(
        leaf_node=leaf_node(LeafNodeSource.COMMIT),
        nodes=(
            UpdatePathNode(
                encryption_key=b"N" * 32,
                encrypted_path_secret=(
                    HPKECiphertext(kem_output=b"k" * 32, ciphertext=b"c" * 48),
                    HPKECiphertext(kem_output=b"K" * 32, ciphertext=b"C" * 48),
                ),
            ),
        ),
    )


def psk_ids() -> tuple[ExternalPSKID, ResumptionPSKID]:
    return (
        ExternalPSKID(psk_id=b"psk-1", psk_nonce=b"n" * 32),
        ResumptionPSKID(
            usage=ResumptionPSKUsage.BRANCH, psk_group_id=b"g1", psk_epoch=7, psk_nonce=b"m" * 32
        ),
    )


def proposal_bodies() -> tuple[ProposalBody, ...]:
    return (
        Add(key_package=key_package()),
        Update(leaf_node=leaf_node(LeafNodeSource.UPDATE)),
        Remove(removed=5),
        PreSharedKey(psk=psk_ids()[0]),
        PreSharedKey(psk=psk_ids()[1]),
        ReInit(group_id=b"new-group", cipher_suite=3, extensions=extensions()),
        ExternalInit(kem_output=b"x" * 32),
        GroupContextExtensions(extensions=(ExternalPub(external_pub=b"X" * 32).to_extension(),)),
    )


def commit() -> Commit:
    return Commit(
        proposals=(
            ProposalOrRef(value=Proposal(body=Remove(removed=2))),
            ProposalOrRef(value=b"r" * 32),
        ),
        path=update_path(),
    )


def group_context() -> GroupContext:
    return GroupContext(
        cipher_suite=1,
        group_id=b"group",
        epoch=4,
        tree_hash=b"t" * 32,
        confirmed_transcript_hash=b"c" * 32,
        extensions=(
            RequiredCapabilities(credential_types=(CredentialType.BASIC,)).to_extension(),
            ExternalSenders(
                senders=(ExternalSender(signature_key=b"s" * 32, credential=credential(b"hub")),)
            ).to_extension(),
        ),
    )


def group_info() -> GroupInfo:
    return GroupInfo(
        group_context=group_context(),
        extensions=extensions(),
        confirmation_tag=b"T" * 32,
        signer=3,
        signature=b"gi-signature",
    )


def group_secrets() -> GroupSecrets:
    return GroupSecrets(
        joiner_secret=b"j" * 32, path_secret=PathSecret(path_secret=b"p" * 32), psks=psk_ids()
    )


def welcome() -> Welcome:
    return Welcome(
        cipher_suite=1,
        secrets=(
            EncryptedGroupSecrets(
                new_member=b"r" * 32,
                encrypted_group_secrets=HPKECiphertext(kem_output=b"k" * 32, ciphertext=b"c" * 9),
            ),
        ),
        encrypted_group_info=b"sealed group info",
    )


def contents() -> tuple[Content, ...]:
    return (
        ApplicationData(data=b"hello"),
        Proposal(body=Add(key_package=key_package())),
        commit(),
    )


def auth_for(content: Content) -> FramedContentAuthData:
    is_commit = isinstance(content, Commit)
    return FramedContentAuthData(
        signature=b"s" * 64, confirmation_tag=b"T" * 32 if is_commit else None
    )


def framed_content(content: Content, sender: Sender | None = None) -> FramedContent:
    return FramedContent(
        group_id=b"group",
        epoch=4,
        sender=sender or Sender.member(1),
        authenticated_data=b"aad",
        content=content,
    )


def authenticated_content(
    content: Content,
    sender: Sender | None = None,
    wire_format: WireFormat = WireFormat.MLS_PUBLIC_MESSAGE,
) -> AuthenticatedContent:
    return AuthenticatedContent(
        wire_format=wire_format, content=framed_content(content, sender), auth=auth_for(content)
    )


def public_message(content: Content, sender: Sender | None = None) -> PublicMessage:
    framed = framed_content(content, sender)
    is_member = framed.sender.sender_type == SenderType.MEMBER
    return PublicMessage(
        content=framed, auth=auth_for(content), membership_tag=b"M" * 32 if is_member else None
    )


def private_message() -> PrivateMessage:
    return PrivateMessage(
        group_id=b"group",
        epoch=4,
        content_type=framed_content(contents()[0]).content_type,
        authenticated_data=b"aad",
        encrypted_sender_data=b"e" * 28,
        ciphertext=b"c" * 64,
    )
