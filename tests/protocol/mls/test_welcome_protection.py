"""Sealing and opening Welcome messages (RFC 9420 §12.4.3, §12.4.3.1).

A committer's epoch is built with the real key schedule; each joiner is a device with a
key package made by :func:`create_key_package`. Every check of the joiner gets a Welcome
that fails exactly that check.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from crypto.errors import InvalidKeyError, InvalidSignatureError, InvalidTagError
from crypto.labels import encrypt_with_label
from crypto.signatures import SigningKey
from crypto.suites import SUPPORTED_SUITE_IDS, CipherSuite, cipher_suite
from protocol.errors import ValidationError
from protocol.mls.constants import CredentialType, ResumptionPSKUsage
from protocol.mls.credentials import BasicCredential
from protocol.mls.framing import InterimTranscriptHashInput
from protocol.mls.group_context import GroupContext
from protocol.mls.key_packages import CreatedKeyPackage, create_key_package, default_lifetime
from protocol.mls.key_schedule import (
    CommitSecret,
    EpochStart,
    InitSecret,
    JoinerSecret,
    start_epoch,
)
from protocol.mls.leaf_node import Capabilities
from protocol.mls.proposals import ExternalPSKID, PreSharedKeyID, ResumptionPSKID
from protocol.mls.psk import PskInput, derive_psk_secret
from protocol.mls.transcript import ConfirmationTagError, confirmation_tag
from protocol.mls.tree_nodes import HPKECiphertext
from protocol.mls.welcome import EncryptedGroupSecrets, GroupInfo, GroupSecrets, Welcome
from protocol.mls.welcome_protection import (
    AmbiguousWelcomeError,
    JoinedWelcome,
    PskResolver,
    ResumptionPskError,
    UnknownPskError,
    WelcomeCipherSuiteError,
    WelcomeError,
    WelcomeNotForUsError,
    WelcomeRecipient,
    create_welcome,
    no_psks,
    open_welcome,
    sign_group_info,
    verify_group_info,
)
from tests.helpers import DeterministicRandom

NOW = 1_760_000_000


def _joiner(suite: CipherSuite, name: str) -> CreatedKeyPackage:
    return create_key_package(
        suite,
        suite.signature.generate(DeterministicRandom(f"sig {name}")),
        BasicCredential(identity=name.encode()),
        Capabilities(cipher_suites=(suite.suite_id,), credentials=(CredentialType.BASIC,)),
        default_lifetime(NOW),
        (),
        (),
        DeterministicRandom(f"kp {name}"),
    )


@dataclass
class Committer:
    """One epoch of a group as its committer sees it, ready to welcome new members."""

    suite: CipherSuite
    signing_key: SigningKey
    epoch: EpochStart
    group_info: GroupInfo
    psks: tuple[PskInput, ...]

    @classmethod
    def build(
        cls,
        suite_id: int = 1,
        *,
        psks: tuple[PskInput, ...] = (),
        epoch: int = 5,
        tag: bytes | None = None,
    ) -> Committer:
        suite = cipher_suite(suite_id)
        rng = DeterministicRandom(f"committer {suite_id}")
        signing_key = suite.signature.generate(rng)
        context = GroupContext(
            cipher_suite=suite_id,
            group_id=b"case-0042",
            epoch=epoch,
            tree_hash=rng.random_bytes(suite.hash_size),
            confirmed_transcript_hash=rng.random_bytes(suite.hash_size),
        )
        start = start_epoch(
            suite,
            InitSecret(rng.random_bytes(suite.hash_size)),
            CommitSecret(rng.random_bytes(suite.hash_size)),
            derive_psk_secret(suite, psks),
            context.to_bytes(),
        )
        if tag is None:
            tag = confirmation_tag(
                suite, start.secrets.confirmation_key, context.confirmed_transcript_hash
            )
        unsigned = GroupInfo(group_context=context, confirmation_tag=tag, signer=0)
        group_info = sign_group_info(suite, signing_key, unsigned)
        return cls(suite, signing_key, start, group_info, psks)

    def welcome(self, *recipients: WelcomeRecipient, seed: str = "welcome") -> Welcome:
        welcome = create_welcome(
            self.suite,
            self.group_info,
            self.epoch.joiner_secret,
            recipients,
            DeterministicRandom(seed),
            psks=self.psks,
        )
        return Welcome.from_bytes(welcome.to_bytes())  # as it arrives from the relay

    def join(
        self, welcome: Welcome, joiner: CreatedKeyPackage, psks: PskResolver = no_psks
    ) -> JoinedWelcome:
        opened = open_welcome(
            self.suite, welcome, joiner.key_package, joiner.init_private_key, psks
        )
        return opened.verify(self.signing_key.public_key)


def _recipient(joiner: CreatedKeyPackage, path_secret: bytes | None = None) -> WelcomeRecipient:
    return WelcomeRecipient(key_package=joiner.key_package, path_secret=path_secret)


@pytest.fixture(scope="module")
def alice() -> CreatedKeyPackage:
    return _joiner(cipher_suite(1), "alice")


@pytest.fixture(scope="module")
def bob() -> CreatedKeyPackage:
    return _joiner(cipher_suite(1), "bob")


@pytest.fixture(scope="module")
def committer() -> Committer:
    return Committer.build()


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("suite_id", SUPPORTED_SUITE_IDS)
def test_create_welcome_then_join_for_every_suite(suite_id: int) -> None:
    committer = Committer.build(suite_id)
    joiner = _joiner(committer.suite, "carol")
    path_secret = b"\x07" * committer.suite.hash_size
    welcome = committer.welcome(_recipient(joiner, path_secret))

    joined = committer.join(welcome, joiner)

    suite = committer.suite
    expected = committer.epoch.secrets
    assert joined.group_info == committer.group_info
    assert joined.group_context == committer.group_info.group_context
    assert joined.epoch_secrets.epoch_authenticator == expected.epoch_authenticator
    assert joined.epoch_secrets.exporter_secret == expected.exporter_secret
    assert joined.epoch_secrets.init_secret.value == expected.init_secret.value
    assert joined.path_secret == path_secret
    assert joined.group_secrets.psks == ()
    confirmed = committer.group_info.group_context.confirmed_transcript_hash
    interim_input = InterimTranscriptHashInput(
        confirmation_tag=committer.group_info.confirmation_tag
    ).to_bytes()
    assert joined.transcript_hashes.confirmed == confirmed
    assert joined.transcript_hashes.interim == suite.hash(confirmed + interim_input)


def test_one_welcome_serves_several_joiners(
    committer: Committer, alice: CreatedKeyPackage, bob: CreatedKeyPackage
) -> None:
    welcome = committer.welcome(_recipient(alice, b"a" * 32), _recipient(bob))
    assert len(welcome.secrets) == 2
    joined_alice = committer.join(welcome, alice)
    joined_bob = committer.join(welcome, bob)
    assert joined_alice.path_secret == b"a" * 32
    assert joined_bob.path_secret is None
    authenticator = committer.epoch.secrets.epoch_authenticator
    assert joined_alice.epoch_secrets.epoch_authenticator == authenticator
    assert joined_bob.epoch_secrets.epoch_authenticator == authenticator


def test_welcome_takes_randomness_only_from_the_source(
    committer: Committer, alice: CreatedKeyPackage
) -> None:
    first = committer.welcome(_recipient(alice), seed="s")
    assert first == committer.welcome(_recipient(alice), seed="s")
    assert first != committer.welcome(_recipient(alice), seed="t")


def test_the_unverified_stage_exposes_what_the_caller_needs(
    committer: Committer, alice: CreatedKeyPackage
) -> None:
    welcome = committer.welcome(_recipient(alice))
    opened = open_welcome(committer.suite, welcome, alice.key_package, alice.init_private_key)
    assert opened.unverified_group_info.signer == 0
    assert not hasattr(opened, "epoch_secrets")
    joiner_secret = committer.epoch.joiner_secret.value
    assert joiner_secret.hex() not in repr(opened)
    assert repr(joiner_secret) not in repr(opened)


# --- the joiner's checks --------------------------------------------------------------------


def test_welcome_not_for_us_is_refused(
    committer: Committer, alice: CreatedKeyPackage, bob: CreatedKeyPackage
) -> None:
    welcome = committer.welcome(_recipient(alice))
    with pytest.raises(WelcomeNotForUsError):
        committer.join(welcome, bob)


def test_our_key_package_listed_twice_is_refused(
    committer: Committer, alice: CreatedKeyPackage
) -> None:
    welcome = committer.welcome(_recipient(alice))
    doubled = replace(welcome, secrets=welcome.secrets * 2)
    with pytest.raises(AmbiguousWelcomeError):
        committer.join(doubled, alice)


def test_tampered_group_info_is_refused(committer: Committer, alice: CreatedKeyPackage) -> None:
    welcome = committer.welcome(_recipient(alice))
    sealed = bytearray(welcome.encrypted_group_info)
    sealed[10] ^= 1
    with pytest.raises(InvalidTagError):
        committer.join(replace(welcome, encrypted_group_info=bytes(sealed)), alice)


def test_group_info_tampered_by_an_insider_fails_the_aead(
    committer: Committer, alice: CreatedKeyPackage
) -> None:
    # Someone who re-seals our GroupSecrets to match the altered ciphertext (knowing the
    # joiner secret) still cannot forge the AEAD tag of the GroupInfo without the key.
    welcome = committer.welcome(_recipient(alice))
    sealed = bytearray(welcome.encrypted_group_info)
    sealed[-1] ^= 1
    secrets = GroupSecrets(joiner_secret=committer.epoch.joiner_secret.value)
    resealed = encrypt_with_label(
        committer.suite,
        alice.key_package.init_key,
        "Welcome",
        bytes(sealed),
        secrets.to_bytes(),
        DeterministicRandom("insider"),
    )
    entry = EncryptedGroupSecrets(
        new_member=welcome.secrets[0].new_member,
        encrypted_group_secrets=HPKECiphertext(
            kem_output=resealed.kem_output, ciphertext=resealed.ciphertext
        ),
    )
    forged = replace(welcome, secrets=(entry,), encrypted_group_info=bytes(sealed))
    with pytest.raises(InvalidTagError):
        committer.join(forged, alice)


def test_tampered_group_secrets_are_refused(committer: Committer, alice: CreatedKeyPackage) -> None:
    welcome = committer.welcome(_recipient(alice))
    entry = welcome.secrets[0]
    ciphertext = bytearray(entry.encrypted_group_secrets.ciphertext)
    ciphertext[0] ^= 1
    hpke = replace(entry.encrypted_group_secrets, ciphertext=bytes(ciphertext))
    forged = replace(welcome, secrets=(replace(entry, encrypted_group_secrets=hpke),))
    with pytest.raises(InvalidTagError):
        committer.join(forged, alice)


def test_wrong_signer_is_refused(committer: Committer, alice: CreatedKeyPackage) -> None:
    welcome = committer.welcome(_recipient(alice))
    opened = open_welcome(committer.suite, welcome, alice.key_package, alice.init_private_key)
    intruder = committer.suite.signature.generate(DeterministicRandom("intruder"))
    with pytest.raises(InvalidSignatureError):
        opened.verify(intruder.public_key)


def test_group_info_signed_by_someone_else_is_refused(alice: CreatedKeyPackage) -> None:
    committer = Committer.build()
    intruder = committer.suite.signature.generate(DeterministicRandom("intruder"))
    committer.group_info = sign_group_info(committer.suite, intruder, committer.group_info)
    with pytest.raises(InvalidSignatureError, match="GroupInfo"):
        committer.join(committer.welcome(_recipient(alice)), alice)


def test_bad_confirmation_tag_is_refused(alice: CreatedKeyPackage) -> None:
    committer = Committer.build(tag=b"\x00" * 32)
    welcome = committer.welcome(_recipient(alice))
    with pytest.raises(ConfirmationTagError):
        committer.join(welcome, alice)


def test_welcome_of_another_suite_is_refused(
    committer: Committer, alice: CreatedKeyPackage
) -> None:
    welcome = replace(committer.welcome(_recipient(alice)), cipher_suite=3)
    with pytest.raises(WelcomeCipherSuiteError):
        committer.join(welcome, alice)


def test_init_key_that_is_not_ours_is_a_local_error(
    committer: Committer, alice: CreatedKeyPackage, bob: CreatedKeyPackage
) -> None:
    welcome = committer.welcome(_recipient(alice))
    with pytest.raises(InvalidKeyError):
        open_welcome(committer.suite, welcome, alice.key_package, bob.init_private_key)


def test_joiner_secret_of_the_wrong_length_is_refused(
    committer: Committer, alice: CreatedKeyPackage
) -> None:
    welcome = committer.welcome(_recipient(alice))
    short = GroupSecrets(joiner_secret=b"j" * 16)
    resealed = encrypt_with_label(
        committer.suite,
        alice.key_package.init_key,
        "Welcome",
        welcome.encrypted_group_info,
        short.to_bytes(),
        DeterministicRandom("short"),
    )
    entry = replace(
        welcome.secrets[0],
        encrypted_group_secrets=HPKECiphertext(
            kem_output=resealed.kem_output, ciphertext=resealed.ciphertext
        ),
    )
    with pytest.raises(ValidationError):
        committer.join(replace(welcome, secrets=(entry,)), alice)


# --- PSKs -----------------------------------------------------------------------------------


EXTERNAL = ExternalPSKID(psk_id=b"case-psk", psk_nonce=b"n" * 32)


def _resolver(known: dict[PreSharedKeyID, bytes]) -> PskResolver:
    return known.get


def test_external_psk_is_resolved_and_mixed_in(alice: CreatedKeyPackage) -> None:
    committer = Committer.build(psks=(PskInput(EXTERNAL, b"shared out of band"),))
    welcome = committer.welcome(_recipient(alice))
    joined = committer.join(welcome, alice, _resolver({EXTERNAL: b"shared out of band"}))
    assert joined.group_secrets.psks == (EXTERNAL,)
    assert joined.epoch_secrets.epoch_authenticator == committer.epoch.secrets.epoch_authenticator


def test_unknown_psk_is_refused(alice: CreatedKeyPackage) -> None:
    committer = Committer.build(psks=(PskInput(EXTERNAL, b"shared out of band"),))
    welcome = committer.welcome(_recipient(alice))
    with pytest.raises(UnknownPskError):
        committer.join(welcome, alice)


def test_wrong_psk_value_fails_the_aead(alice: CreatedKeyPackage) -> None:
    committer = Committer.build(psks=(PskInput(EXTERNAL, b"shared out of band"),))
    welcome = committer.welcome(_recipient(alice))
    with pytest.raises(InvalidTagError):
        committer.join(welcome, alice, _resolver({EXTERNAL: b"a guess"}))


def _resumption(usage: ResumptionPSKUsage, epoch: int) -> ResumptionPSKID:
    return ResumptionPSKID(
        usage=usage, psk_group_id=b"old-case", psk_epoch=epoch, psk_nonce=b"r" * 32
    )


def test_branch_psk_needs_epoch_one(alice: CreatedKeyPackage) -> None:
    branch = _resumption(ResumptionPSKUsage.BRANCH, 9)
    value = b"resumption secret of epoch 9"
    known = _resolver({branch: value})
    for epoch, allowed in ((1, True), (2, False)):
        committer = Committer.build(psks=(PskInput(branch, value),), epoch=epoch)
        welcome = committer.welcome(_recipient(alice))
        if allowed:
            assert committer.join(welcome, alice, known).group_context.epoch == 1
        else:
            with pytest.raises(ResumptionPskError, match="epoch 1"):
                committer.join(welcome, alice, known)


def test_two_reinit_or_branch_psks_are_refused(alice: CreatedKeyPackage) -> None:
    reinit = _resumption(ResumptionPSKUsage.REINIT, 3)
    branch = _resumption(ResumptionPSKUsage.BRANCH, 4)
    psks = (PskInput(reinit, b"x" * 32), PskInput(branch, b"y" * 32))
    committer = Committer.build(psks=psks, epoch=1)
    welcome = committer.welcome(_recipient(alice))
    known = _resolver({reinit: b"x" * 32, branch: b"y" * 32})
    with pytest.raises(ResumptionPskError, match="more than one"):
        committer.join(welcome, alice, known)


# --- the committer's checks -----------------------------------------------------------------


def test_create_welcome_refuses_misuse(committer: Committer, alice: CreatedKeyPackage) -> None:
    suite = committer.suite
    joiner_secret = committer.epoch.joiner_secret
    rng = DeterministicRandom("misuse")
    with pytest.raises(WelcomeError):
        create_welcome(suite, committer.group_info, joiner_secret, (), rng)
    with pytest.raises(AmbiguousWelcomeError):
        recipients = (_recipient(alice), _recipient(alice, b"p" * 32))
        create_welcome(suite, committer.group_info, joiner_secret, recipients, rng)
    with pytest.raises(WelcomeCipherSuiteError):
        create_welcome(cipher_suite(3), committer.group_info, joiner_secret, (), rng)
    other_suite = _joiner(cipher_suite(2), "dave")
    with pytest.raises(WelcomeCipherSuiteError):
        create_welcome(suite, committer.group_info, joiner_secret, (_recipient(other_suite),), rng)
    with pytest.raises(ValidationError):
        create_welcome(
            suite, committer.group_info, JoinerSecret(b"short"), (_recipient(alice),), rng
        )


def test_group_info_sign_and_verify_agree(committer: Committer) -> None:
    verify_group_info(committer.suite, committer.group_info, committer.signing_key.public_key)
    unsigned = replace(committer.group_info, signature=b"")
    with pytest.raises(InvalidSignatureError):
        verify_group_info(committer.suite, unsigned, committer.signing_key.public_key)


def test_errors_are_validation_errors_with_distinct_codes() -> None:
    classes = (
        WelcomeError,
        WelcomeNotForUsError,
        AmbiguousWelcomeError,
        WelcomeCipherSuiteError,
        UnknownPskError,
        ResumptionPskError,
    )
    assert all(issubclass(cls, ValidationError) for cls in classes)
    assert len({cls.code for cls in classes}) == len(classes)
