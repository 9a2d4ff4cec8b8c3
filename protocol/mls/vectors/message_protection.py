"""message-protection.json: PublicMessage and PrivateMessage protection (§6.1–§6.3).

With a GroupContext built from the case (empty extensions), a secret tree over 2 leaves and
leaf 1 as sender: each given message unprotects and verifies to the stated content, and a
fresh message protected by us round-trips. Application data must be refused as a
PublicMessage, in both directions.
"""

from __future__ import annotations

from crypto.errors import CasecircleError
from crypto.suites import CipherSuite, cipher_suite
from protocol.mls.constants import WireFormat
from protocol.mls.framing import (
    ApplicationData,
    Content,
    FramedContent,
    MLSMessage,
    PrivateMessage,
    PublicMessage,
    Sender,
)
from protocol.mls.group_context import GroupContext
from protocol.mls.message_protection import (
    ForbiddenWireFormatError,
    UnverifiedContent,
    protect_private,
    protect_public,
    sign_content,
    unprotect_private,
    unprotect_public,
)
from protocol.mls.proposals import Commit, Proposal
from protocol.mls.secret_tree import SecretTree
from protocol.mls.vectors import VectorCase
from protocol.mls.vectors.checks import CaseRandom, VectorMismatchError, expect_equal, unhex

SENDER_LEAF = 1
N_LEAVES = 2


class _Epoch:
    """What a member knows of the case's epoch, and fresh secret trees on demand."""

    def __init__(self, case: VectorCase) -> None:
        self.suite: CipherSuite = cipher_suite(case["cipher_suite"])
        self.context = GroupContext(
            cipher_suite=self.suite.suite_id,
            group_id=unhex(case["group_id"]),
            epoch=case["epoch"],
            tree_hash=unhex(case["tree_hash"]),
            confirmed_transcript_hash=unhex(case["confirmed_transcript_hash"]),
        )
        self.encryption_secret = unhex(case["encryption_secret"])
        self.sender_data_secret = unhex(case["sender_data_secret"])
        self.membership_key = unhex(case["membership_key"])
        self.signing_key = self.suite.signature.load_private_key(unhex(case["signature_priv"]))
        self.signature_pub = unhex(case["signature_pub"])
        expect_equal("signature_pub", self.signing_key.public_key, self.signature_pub)
        self.rng = CaseRandom(b"message-protection")

    def secret_tree(self) -> SecretTree:
        return SecretTree(self.suite, self.encryption_secret, N_LEAVES)

    def framed(self, content: Content) -> FramedContent:
        return FramedContent(
            group_id=self.context.group_id,
            epoch=self.context.epoch,
            sender=Sender.member(SENDER_LEAF),
            content=content,
        )

    def verify(self, unverified: UnverifiedContent) -> Content:
        expect_equal("sender", unverified.sender, Sender.member(SENDER_LEAF))
        return unverified.verify(self.suite, self.signature_pub, self.context).content.content

    def open_public(self, message: PublicMessage) -> Content:
        return self.verify(unprotect_public(self.suite, message, self.membership_key, self.context))

    def open_private(self, message: PrivateMessage, tree: SecretTree) -> Content:
        unverified = unprotect_private(
            self.suite,
            message,
            tree,
            self.sender_data_secret,
            self.context,
            is_member=lambda leaf: 0 <= leaf < N_LEAVES,
        )
        return self.verify(unverified)


def _public(raw: str) -> PublicMessage:
    body = MLSMessage.from_bytes(unhex(raw)).body
    if not isinstance(body, PublicMessage):
        raise VectorMismatchError(f"expected a PublicMessage, got {type(body).__name__}")
    return body


def _private(raw: str) -> PrivateMessage:
    body = MLSMessage.from_bytes(unhex(raw)).body
    if not isinstance(body, PrivateMessage):
        raise VectorMismatchError(f"expected a PrivateMessage, got {type(body).__name__}")
    return body


def _check_handshake(epoch: _Epoch, case: VectorCase, name: str, content: Content) -> None:
    confirmation_tag = None
    public = _public(case[f"{name}_pub"])
    expect_equal(f"{name}_pub content", epoch.open_public(public), content)
    if isinstance(content, Commit):
        confirmation_tag = public.auth.confirmation_tag

    opened = epoch.open_private(_private(case[f"{name}_priv"]), epoch.secret_tree())
    expect_equal(f"{name}_priv content", opened, content)

    _round_trip(epoch, name, content, confirmation_tag)


def _round_trip(epoch: _Epoch, name: str, content: Content, confirmation_tag: bytes | None) -> None:
    framed = epoch.framed(content)
    if not isinstance(content, ApplicationData):
        signed = sign_content(
            epoch.suite,
            epoch.signing_key,
            WireFormat.MLS_PUBLIC_MESSAGE,
            framed,
            epoch.context,
            confirmation_tag,
        )
        public = protect_public(epoch.suite, signed, epoch.membership_key, epoch.context)
        reread = PublicMessage.from_bytes(public.to_bytes())
        expect_equal(f"fresh {name} public round trip", epoch.open_public(reread), content)
    signed = sign_content(
        epoch.suite,
        epoch.signing_key,
        WireFormat.MLS_PRIVATE_MESSAGE,
        framed,
        epoch.context,
        confirmation_tag,
    )
    private = protect_private(
        epoch.suite, signed, epoch.secret_tree(), epoch.sender_data_secret, epoch.rng
    )
    reread_private = PrivateMessage.from_bytes(private.to_bytes())
    opened = epoch.open_private(reread_private, epoch.secret_tree())
    expect_equal(f"fresh {name} private round trip", opened, content)


def _check_application_refused_in_public(epoch: _Epoch, content: ApplicationData) -> None:
    signed = sign_content(
        epoch.suite,
        epoch.signing_key,
        WireFormat.MLS_PUBLIC_MESSAGE,
        epoch.framed(content),
        epoch.context,
    )
    forged = PublicMessage(
        content=signed.content,
        auth=signed.auth,
        membership_tag=epoch.suite.mac(epoch.membership_key, signed.tbm(epoch.context)),
    )
    for attempt in ("protect", "unprotect"):
        try:
            if attempt == "protect":
                protect_public(epoch.suite, signed, epoch.membership_key, epoch.context)
            else:
                unprotect_public(epoch.suite, forged, epoch.membership_key, epoch.context)
        except ForbiddenWireFormatError:
            continue
        except CasecircleError as exc:
            raise VectorMismatchError(f"application in public: wrong error {exc.code}") from exc
        raise VectorMismatchError(f"application data accepted as PublicMessage ({attempt})")


def run_case(case: VectorCase) -> None:
    epoch = _Epoch(case)
    _check_handshake(epoch, case, "proposal", Proposal.from_bytes(unhex(case["proposal"])))
    _check_handshake(epoch, case, "commit", Commit.from_bytes(unhex(case["commit"])))

    application = ApplicationData(data=unhex(case["application"]))
    opened = epoch.open_private(_private(case["application_priv"]), epoch.secret_tree())
    expect_equal("application_priv content", opened, application)
    _round_trip(epoch, "application", application, None)
    _check_application_refused_in_public(epoch, application)
