"""RFC 9420 §12.4.3, §12.4.3.1: sealing a Welcome for new members, and opening one.

A Welcome is how a device added to a case learns the case's keys, and it reaches the
device through the relay; so the joiner believes nothing in it until the GroupInfo's
signature and its confirmation tag have been checked::

    committer                                          joiner (holds KeyPackage, init_priv)
    ─────────                                          ──────
    welcome_secret = DeriveSecret(Extract(joiner_secret, psk_secret), "welcome")
    GroupInfo ──AEAD(welcome_key, welcome_nonce, aad "")──► encrypted_group_info
    GroupSecrets ──EncryptWithLabel(init_key, "Welcome", encrypted_group_info)──►
        EncryptedGroupSecrets{new_member = KeyPackageRef}
                                                       open_welcome:
                                                         find our KeyPackageRef
                                                         DecryptWithLabel → GroupSecrets
                                                         resolve the PSKs → psk_secret
                                                         AEAD-open → GroupInfo (unverified)
                                                       UnverifiedWelcome.verify(signer key):
                                                         VerifyWithLabel "GroupInfoTBS"
                                                         epoch secrets from joiner_secret
                                                         confirmation tag, in constant time
                                                         → JoinedWelcome

Opening takes two steps because the signer's key lives in the ratchet tree, which often
arrives inside the GroupInfo itself (the ratchet_tree extension): the caller reads the
tree and the ``signer`` index from :attr:`UnverifiedWelcome.unverified_group_info`,
validates the tree against the GroupInfo's tree hash, and only then calls
:meth:`UnverifiedWelcome.verify`. Only that returns a :class:`JoinedWelcome` to build a
group from. Also the caller's, since they need state this module does not have: the
tree checks and finding our leaf in it, the uniqueness of the group id among our groups,
and the extra reinit/branch checks against the old group (§11.2, §11.3).

All functions are pure: randomness comes in as a ``RandomSource``, PSK values through a
resolver, and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from crypto.errors import InvalidKeyError, InvalidSignatureError
from crypto.hpke import HpkePrivateKey
from crypto.labels import (
    decrypt_with_label,
    encrypt_with_label,
    sign_with_label,
    verify_with_label,
)
from crypto.random import RandomSource
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite
from protocol.errors import ValidationError
from protocol.mls.constants import ResumptionPSKUsage
from protocol.mls.framing import InterimTranscriptHashInput
from protocol.mls.group_context import GroupContext
from protocol.mls.key_package import KeyPackage
from protocol.mls.key_packages import key_package_ref
from protocol.mls.key_schedule import (
    EpochSecrets,
    JoinerSecret,
    PskSecret,
    derive_epoch_secrets,
    derive_welcome_secret,
    welcome_key,
)
from protocol.mls.proposals import PreSharedKeyID, ResumptionPSKID
from protocol.mls.psk import PskInput, derive_psk_secret
from protocol.mls.transcript import TranscriptHashes, verify_confirmation_tag
from protocol.mls.transcript import interim_transcript_hash as next_interim_hash
from protocol.mls.tree_nodes import HPKECiphertext
from protocol.mls.welcome import (
    EncryptedGroupSecrets,
    GroupInfo,
    GroupSecrets,
    PathSecret,
    Welcome,
)

WELCOME_LABEL = "Welcome"
GROUP_INFO_SIGNATURE_LABEL = "GroupInfoTBS"

_NEW_GROUP_USAGES = frozenset({ResumptionPSKUsage.REINIT, ResumptionPSKUsage.BRANCH})

PskResolver = Callable[[PreSharedKeyID], bytes | None]
"""Returns the value of the PSK a ``PreSharedKeyID`` names — an external PSK from the
application's store, or a past epoch's ``resumption_psk`` — or ``None`` if we lack it."""


def no_psks(psk_id: PreSharedKeyID) -> None:
    """The resolver of a client that holds no PSKs."""
    del psk_id


class WelcomeError(ValidationError):
    """A Welcome cannot be processed (base of the Welcome-specific errors)."""

    code = "welcome"


class WelcomeNotForUsError(WelcomeError):
    """No entry of the Welcome is for our key package."""

    code = "welcome_not_for_us"


class AmbiguousWelcomeError(WelcomeError):
    """The Welcome lists one key package more than once."""

    code = "welcome_ambiguous"


class WelcomeCipherSuiteError(WelcomeError):
    """The Welcome, the key package and the GroupInfo do not agree on the cipher suite."""

    code = "welcome_cipher_suite"


class UnknownPskError(WelcomeError):
    """The Welcome injects a PSK we do not hold (§12.4.3.1)."""

    code = "unknown_psk"


class ResumptionPskError(WelcomeError):
    """More than one reinit/branch resumption PSK, or one in a group not at epoch 1."""

    code = "resumption_psk"


@dataclass(frozen=True, slots=True, kw_only=True)
class WelcomeRecipient:
    """A new member: its (validated) key package, and the path secret of the lowest node
    its direct path shares with the committer's, if the commit had a path."""

    key_package: KeyPackage
    path_secret: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class JoinedWelcome:
    """A Welcome whose GroupInfo signature and confirmation tag checked out.

    ``transcript_hashes`` holds the confirmed hash from the GroupInfo and the interim hash
    computed from it and the confirmation tag, ready for the first commit.
    """

    group_info: GroupInfo
    group_secrets: GroupSecrets
    epoch_secrets: EpochSecrets
    transcript_hashes: TranscriptHashes

    @property
    def group_context(self) -> GroupContext:
        return self.group_info.group_context

    @property
    def path_secret(self) -> bytes | None:
        """The path secret for the common ancestor with the signer, if one was sent."""
        path = self.group_secrets.path_secret
        return None if path is None else path.path_secret


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class UnverifiedWelcome:
    """A Welcome decrypted with our init key; its GroupInfo is not yet authenticated.

    The AEAD only shows that the GroupInfo came from someone who knew the joiner secret;
    nothing in it may be acted on before :meth:`verify`.
    """

    suite: CipherSuite = field(repr=False)
    key_package: KeyPackage = field(repr=False)
    group_secrets: GroupSecrets
    psk_secret: PskSecret = field(repr=False)
    unverified_group_info: GroupInfo

    def verify(self, signer_public_key: bytes) -> JoinedWelcome:
        """Check the GroupInfo with the signature key of leaf ``unverified_group_info.signer``
        (from the ratchet tree the caller holds), then derive the epoch and check its
        confirmation tag. Raises ``InvalidSignatureError``, ``ConfirmationTagError`` or a
        :class:`WelcomeError`."""
        suite = self.suite
        group_info = self.unverified_group_info
        context = group_info.group_context
        if context.cipher_suite != self.key_package.cipher_suite:
            raise WelcomeCipherSuiteError(
                f"GroupInfo is for suite 0x{context.cipher_suite:04x}, "
                f"our key package for 0x{self.key_package.cipher_suite:04x}"
            )
        verify_group_info(suite, group_info, signer_public_key)
        if _new_group_psks(self.group_secrets.psks) and context.epoch != 1:
            raise ResumptionPskError(
                f"a reinit or branch PSK needs a group at epoch 1, not {context.epoch}"
            )
        joiner_secret = JoinerSecret(self.group_secrets.joiner_secret)
        secrets = derive_epoch_secrets(suite, joiner_secret, self.psk_secret, context.to_bytes())
        confirmed = context.confirmed_transcript_hash
        verify_confirmation_tag(
            suite, secrets.confirmation_key, confirmed, group_info.confirmation_tag
        )
        interim_input = InterimTranscriptHashInput(confirmation_tag=group_info.confirmation_tag)
        transcript = TranscriptHashes(
            confirmed=confirmed,
            interim=next_interim_hash(suite, confirmed, interim_input.to_bytes()),
        )
        return JoinedWelcome(
            group_info=group_info,
            group_secrets=self.group_secrets,
            epoch_secrets=secrets,
            transcript_hashes=transcript,
        )


# --- GroupInfo signatures -------------------------------------------------------------------


def sign_group_info(
    suite: CipherSuite, signing_key: SigningKey, group_info: GroupInfo
) -> GroupInfo:
    """``group_info`` signed over ``GroupInfoTBS`` by the member at leaf ``signer``."""
    signature = sign_with_label(suite, signing_key, GROUP_INFO_SIGNATURE_LABEL, group_info.tbs())
    return replace(group_info, signature=signature)


def verify_group_info(suite: CipherSuite, group_info: GroupInfo, signer_public_key: bytes) -> None:
    """Raise ``InvalidSignatureError`` (or ``InvalidKeyError``) unless the signer signed it."""
    try:
        verify_with_label(
            suite,
            signer_public_key,
            GROUP_INFO_SIGNATURE_LABEL,
            group_info.tbs(),
            group_info.signature,
        )
    except InvalidSignatureError as exc:
        raise InvalidSignatureError("GroupInfo signature does not verify") from exc


# --- committer side -------------------------------------------------------------------------


def create_welcome(
    suite: CipherSuite,
    group_info: GroupInfo,
    joiner_secret: JoinerSecret,
    recipients: Sequence[WelcomeRecipient],
    rng: RandomSource,
    *,
    psks: Sequence[PskInput] = (),
) -> Welcome:
    """Seal the signed ``group_info`` and each recipient's GroupSecrets (§12.4.3).

    ``psks`` are the PSKs the commit injected, in the commit's order: the joiners get their
    ids and derive the same ``psk_secret``. The welcome key and nonce are fixed by the
    epoch, so every Welcome of one epoch must carry the very same GroupInfo: build it once
    and call this once per batch of recipients with it.
    """
    if group_info.group_context.cipher_suite != suite.suite_id:
        raise WelcomeCipherSuiteError("GroupInfo is for another cipher suite")
    if not recipients:
        raise WelcomeError("a Welcome needs at least one recipient")
    psk_secret = derive_psk_secret(suite, psks)
    key = welcome_key(suite, derive_welcome_secret(suite, joiner_secret, psk_secret))
    encrypted_group_info = suite.aead.seal(key.key, key.nonce, b"", group_info.to_bytes())

    psk_ids = tuple(entry.psk_id for entry in psks)
    secrets: list[EncryptedGroupSecrets] = []
    seen: set[bytes] = set()
    for recipient in recipients:
        package = recipient.key_package
        if package.cipher_suite != suite.suite_id:
            raise WelcomeCipherSuiteError("a recipient's key package is for another suite")
        ref = key_package_ref(suite, package)
        if ref in seen:
            raise AmbiguousWelcomeError("a key package is listed twice")
        seen.add(ref)
        path = recipient.path_secret
        group_secrets = GroupSecrets(
            joiner_secret=joiner_secret.checked(suite),
            path_secret=None if path is None else PathSecret(path_secret=path),
            psks=psk_ids,
        )
        sealed = encrypt_with_label(
            suite,
            package.init_key,
            WELCOME_LABEL,
            encrypted_group_info,
            group_secrets.to_bytes(),
            rng,
        )
        ciphertext = HPKECiphertext(kem_output=sealed.kem_output, ciphertext=sealed.ciphertext)
        secrets.append(EncryptedGroupSecrets(new_member=ref, encrypted_group_secrets=ciphertext))
    return Welcome(
        cipher_suite=suite.suite_id,
        secrets=tuple(secrets),
        encrypted_group_info=encrypted_group_info,
    )


# --- joiner side ----------------------------------------------------------------------------


def open_welcome(
    suite: CipherSuite,
    welcome: Welcome,
    key_package: KeyPackage,
    init_private_key: HpkePrivateKey,
    psks: PskResolver = no_psks,
) -> UnverifiedWelcome:
    """Decrypt our GroupSecrets and the GroupInfo of ``welcome`` (§12.4.3.1).

    ``key_package`` is the one of ours the Welcome should name and ``init_private_key`` its
    init key. Raises :class:`WelcomeError` subclasses, ``InvalidTagError`` (tampered or not
    for this key) and ``DecodeError``; the result still has to be :meth:`~UnverifiedWelcome.
    verify`-ed.
    """
    if not welcome.cipher_suite == key_package.cipher_suite == suite.suite_id:
        raise WelcomeCipherSuiteError(
            f"Welcome is for suite 0x{welcome.cipher_suite:04x}, key package for "
            f"0x{key_package.cipher_suite:04x}, expected 0x{suite.suite_id:04x}"
        )
    if init_private_key.public_key() != key_package.init_key:
        raise InvalidKeyError("init private key does not belong to the key package")
    entry = _entry_for(welcome, key_package_ref(suite, key_package))
    sealed = entry.encrypted_group_secrets
    group_secrets = GroupSecrets.from_bytes(
        decrypt_with_label(
            suite,
            init_private_key,
            WELCOME_LABEL,
            welcome.encrypted_group_info,
            sealed.kem_output,
            sealed.ciphertext,
        )
    )
    joiner_secret = JoinerSecret(group_secrets.joiner_secret)
    psk_secret = derive_psk_secret(suite, _resolve_psks(group_secrets.psks, psks))
    key = welcome_key(suite, derive_welcome_secret(suite, joiner_secret, psk_secret))
    group_info_bytes = suite.aead.open(key.key, key.nonce, b"", welcome.encrypted_group_info)
    return UnverifiedWelcome(
        suite=suite,
        key_package=key_package,
        group_secrets=group_secrets,
        psk_secret=psk_secret,
        unverified_group_info=GroupInfo.from_bytes(group_info_bytes),
    )


def _entry_for(welcome: Welcome, ref: bytes) -> EncryptedGroupSecrets:
    entries = [entry for entry in welcome.secrets if entry.new_member == ref]
    if not entries:
        raise WelcomeNotForUsError("the Welcome has no secrets for our key package")
    if len(entries) > 1:
        raise AmbiguousWelcomeError("the Welcome lists our key package more than once")
    return entries[0]


def _new_group_psks(psk_ids: Sequence[PreSharedKeyID]) -> list[ResumptionPSKID]:
    """The resumption PSKs that tie a new group to an old one (reinit, branch)."""
    return [
        psk_id
        for psk_id in psk_ids
        if isinstance(psk_id, ResumptionPSKID) and psk_id.usage in _NEW_GROUP_USAGES
    ]


def _resolve_psks(psk_ids: Sequence[PreSharedKeyID], resolve: PskResolver) -> list[PskInput]:
    if len(_new_group_psks(psk_ids)) > 1:
        raise ResumptionPskError("more than one reinit or branch PSK")
    inputs: list[PskInput] = []
    for psk_id in psk_ids:
        value = resolve(psk_id)
        if value is None:
            raise UnknownPskError(f"the Welcome uses a PSK we do not hold ({psk_id.psk_type.name})")
        inputs.append(PskInput(psk_id, value))
    return inputs
