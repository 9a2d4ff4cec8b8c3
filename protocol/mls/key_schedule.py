"""RFC 9420 §8: the key schedule that turns one epoch's inputs into all of its secrets.

Each epoch's secrets hang off one chain, so that every member who agrees on the previous
epoch, the commit and the new GroupContext derives the same keys, and nobody else can::

    init_secret[n-1] ─┐ (salt)
    commit_secret ────┴► Extract ─► ExpandWithLabel("joiner", GroupContext) = joiner_secret
    joiner_secret ─┐ (salt)
    psk_secret ────┴► Extract ─┬─► DeriveSecret("welcome") = welcome_secret
                               └─► ExpandWithLabel("epoch", GroupContext) = epoch_secret
    epoch_secret ─► DeriveSecret(label) for each secret of Table 4, and "init" = init_secret[n]

Each stage's secret is its own type (:class:`InitSecret`, :class:`CommitSecret`,
:class:`PskSecret`, :class:`JoinerSecret`, :class:`WelcomeSecret`), so an argument in the
wrong place is a type error, and none of them shows its bytes in ``repr``. The GroupContext
comes in already serialized: this module does not care how it was built.

A committer and a member processing a commit call :func:`start_epoch`; a new member
holding a ``joiner_secret`` from a Welcome calls :func:`derive_welcome_secret` (to open the
GroupInfo) and then :func:`derive_epoch_secrets`. An external joiner gets its init secret
from :func:`external_init_for_joiner` (members: :func:`external_init_for_member`, §8.3). The
epoch's application-facing output is the exporter (§8.5), :meth:`EpochSecrets.export`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from crypto.errors import InvalidLengthError
from crypto.hpke import HpkePrivateKey
from crypto.labels import derive_secret, expand_with_label
from crypto.random import RandomSource
from crypto.suites import CipherSuite
from protocol.errors import ValidationError


@dataclass(frozen=True, slots=True, eq=False)
class _Secret:
    """Secret bytes of one stage of the key schedule; never printed, never compared by ``==``."""

    value: bytes = field(repr=False)

    @classmethod
    def zero(cls, suite: CipherSuite) -> Self:
        """The all-zero secret of ``Nh`` bytes (no commit path, no PSKs)."""
        return cls(bytes(suite.hash_size))

    def checked(self, suite: CipherSuite) -> bytes:
        """The bytes, after checking that they are ``Nh`` long for this suite."""
        if len(self.value) != suite.hash_size:
            raise ValidationError(
                f"{type(self).__name__} is {len(self.value)} bytes, want {suite.hash_size}"
            )
        return self.value


class InitSecret(_Secret):
    """``init_secret`` of the previous epoch (random for a new group, §11; §8.3 externally)."""

    __slots__ = ()


class CommitSecret(_Secret):
    """``commit_secret``: the path secret past the root, or zero for a commit without path."""

    __slots__ = ()


class PskSecret(_Secret):
    """``psk_secret`` (§8.4); zero when no PSK is injected."""

    __slots__ = ()


class JoinerSecret(_Secret):
    """``joiner_secret``: what a Welcome hands to new members in GroupSecrets."""

    __slots__ = ()


class WelcomeSecret(_Secret):
    """``welcome_secret``: keys the encryption of the GroupInfo in a Welcome (§12.4.3.1)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class WelcomeKey:
    """AEAD key and nonce for ``Welcome.encrypted_group_info``."""

    key: bytes = field(repr=False)
    nonce: bytes = field(repr=False)


def welcome_key(suite: CipherSuite, welcome_secret: WelcomeSecret) -> WelcomeKey:
    secret = welcome_secret.checked(suite)
    return WelcomeKey(
        expand_with_label(suite, secret, "key", b"", suite.aead.key_size),
        expand_with_label(suite, secret, "nonce", b"", suite.aead.nonce_size),
    )


def mls_exporter(
    suite: CipherSuite, exporter_secret: bytes, label: str | bytes, context: bytes, length: int
) -> bytes:
    """MLS-Exporter (§8.5): ExpandWithLabel(DeriveSecret(exporter_secret, label),
    "exported", Hash(context), length)."""
    if not 0 < length <= 255 * suite.hash_size:
        raise InvalidLengthError(f"the exporter cannot produce {length} bytes")
    derived = derive_secret(suite, exporter_secret, label)
    return expand_with_label(suite, derived, "exported", suite.hash(context), length)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class EpochSecrets:
    """The secrets derived from one epoch's ``epoch_secret`` (§8, Table 4).

    ``init_secret`` is the next epoch's input. ``repr`` shows the suite and nothing else.
    """

    suite: CipherSuite = field(repr=False)
    sender_data_secret: bytes = field(repr=False)
    encryption_secret: bytes = field(repr=False)
    exporter_secret: bytes = field(repr=False)
    external_secret: bytes = field(repr=False)
    confirmation_key: bytes = field(repr=False)
    membership_key: bytes = field(repr=False)
    resumption_psk: bytes = field(repr=False)
    epoch_authenticator: bytes = field(repr=False)
    init_secret: InitSecret = field(repr=False)

    def __repr__(self) -> str:
        return f"EpochSecrets(suite=0x{self.suite.suite_id:04x}, <redacted>)"

    @classmethod
    def from_epoch_secret(cls, suite: CipherSuite, epoch_secret: bytes) -> EpochSecrets:
        def derive(label: str) -> bytes:
            return derive_secret(suite, epoch_secret, label)

        return cls(
            suite=suite,
            sender_data_secret=derive("sender data"),
            encryption_secret=derive("encryption"),
            exporter_secret=derive("exporter"),
            external_secret=derive("external"),
            confirmation_key=derive("confirm"),
            membership_key=derive("membership"),
            resumption_psk=derive("resumption"),
            epoch_authenticator=derive("authentication"),
            init_secret=InitSecret(derive("init")),
        )

    def export(self, label: str | bytes, context: bytes, length: int) -> bytes:
        """MLS-Exporter(label, context, length) of this epoch (§8.5)."""
        return mls_exporter(self.suite, self.exporter_secret, label, context, length)

    def external_key_pair(self) -> tuple[HpkePrivateKey, bytes]:
        """``external_priv, external_pub = KEM.DeriveKeyPair(external_secret)`` (§8)."""
        return self.suite.kem.derive_key_pair(self.external_secret)

    def external_public_key(self) -> bytes:
        """``external_pub``, published in GroupInfo so that outsiders can commit (§12.4.3.2)."""
        return self.external_key_pair()[1]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class EpochStart:
    """What processing or creating a commit yields: the new epoch's secrets, plus the
    ``joiner_secret`` and ``welcome_secret`` a committer needs to build a Welcome."""

    joiner_secret: JoinerSecret = field(repr=False)
    welcome_secret: WelcomeSecret = field(repr=False)
    secrets: EpochSecrets


def derive_joiner_secret(
    suite: CipherSuite,
    init_secret: InitSecret,
    commit_secret: CommitSecret,
    group_context: bytes,
) -> JoinerSecret:
    """ExpandWithLabel(Extract(init_secret, commit_secret), "joiner", GroupContext, Nh)."""
    extracted = suite.extract(init_secret.checked(suite), commit_secret.checked(suite))
    return JoinerSecret(
        expand_with_label(suite, extracted, "joiner", group_context, suite.hash_size)
    )


def _member_secret(suite: CipherSuite, joiner_secret: JoinerSecret, psk_secret: PskSecret) -> bytes:
    return suite.extract(joiner_secret.checked(suite), psk_secret.checked(suite))


def derive_welcome_secret(
    suite: CipherSuite, joiner_secret: JoinerSecret, psk_secret: PskSecret
) -> WelcomeSecret:
    """DeriveSecret(Extract(joiner_secret, psk_secret), "welcome")."""
    member_secret = _member_secret(suite, joiner_secret, psk_secret)
    return WelcomeSecret(derive_secret(suite, member_secret, "welcome"))


def derive_epoch_secrets(
    suite: CipherSuite, joiner_secret: JoinerSecret, psk_secret: PskSecret, group_context: bytes
) -> EpochSecrets:
    """The epoch's secrets from ``epoch_secret`` = ExpandWithLabel(Extract(joiner_secret,
    psk_secret), "epoch", GroupContext, Nh)."""
    member_secret = _member_secret(suite, joiner_secret, psk_secret)
    epoch_secret = expand_with_label(suite, member_secret, "epoch", group_context, suite.hash_size)
    return EpochSecrets.from_epoch_secret(suite, epoch_secret)


def start_epoch(
    suite: CipherSuite,
    init_secret: InitSecret,
    commit_secret: CommitSecret,
    psk_secret: PskSecret,
    group_context: bytes,
) -> EpochStart:
    """Run the whole key schedule for the epoch whose GroupContext is ``group_context``."""
    joiner_secret = derive_joiner_secret(suite, init_secret, commit_secret, group_context)
    return EpochStart(
        joiner_secret=joiner_secret,
        welcome_secret=derive_welcome_secret(suite, joiner_secret, psk_secret),
        secrets=derive_epoch_secrets(suite, joiner_secret, psk_secret, group_context),
    )


EXTERNAL_INIT_EXPORT_LABEL = b"MLS 1.0 external init secret"


def external_init_for_joiner(
    suite: CipherSuite, external_pub: bytes, rng: RandomSource
) -> tuple[bytes, InitSecret]:
    """§8.3, joiner side: ``kem_output`` for the ExternalInit proposal and the init secret.

    ``kem_output, context = SetupBaseS(external_pub, "")``;
    ``init_secret = context.export("MLS 1.0 external init secret", Nh)``.
    """
    kem_output, context = suite.hpke.setup_base_s(external_pub, b"", rng)
    return kem_output, InitSecret(context.export(EXTERNAL_INIT_EXPORT_LABEL, suite.hash_size))


def external_init_for_member(secrets: EpochSecrets, kem_output: bytes) -> InitSecret:
    """§8.3, member side: the init secret from an ExternalInit proposal's ``kem_output``."""
    suite = secrets.suite
    external_priv, _ = secrets.external_key_pair()
    context = suite.hpke.setup_base_r(kem_output, external_priv, b"")
    return InitSecret(context.export(EXTERNAL_INIT_EXPORT_LABEL, suite.hash_size))
