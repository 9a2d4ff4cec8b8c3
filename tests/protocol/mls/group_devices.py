"""Simulated devices for group tests: each with a signing key, key packages and a Group."""

from __future__ import annotations

from dataclasses import dataclass, field

from crypto.hpke import HpkePrivateKey
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite
from protocol.mls.constants import CredentialType, ProtocolVersion
from protocol.mls.credentials import BasicCredential
from protocol.mls.extensions import Extension
from protocol.mls.external_sender import external_proposal, external_senders_extension
from protocol.mls.framing import MLSMessage
from protocol.mls.group import Group
from protocol.mls.joining import join_from_welcome
from protocol.mls.key_package import KeyPackage
from protocol.mls.key_packages import create_key_package, default_lifetime
from protocol.mls.leaf_node import Capabilities
from protocol.mls.proposals import Proposal
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.welcome import Welcome
from tests.helpers import DeterministicRandom

NOW = 1_790_000_000


def capabilities(suite: CipherSuite) -> Capabilities:
    return Capabilities(
        versions=(ProtocolVersion.MLS10,),
        cipher_suites=(suite.suite_id,),
        credentials=(CredentialType.BASIC,),
    )


@dataclass
class Device:
    """One device: identity, signing key, the key packages it handed out, and its group."""

    suite: CipherSuite
    name: str
    rng: DeterministicRandom = field(init=False)
    signing_key: SigningKey = field(init=False)
    group: Group | None = None
    _packages: dict[bytes, tuple[HpkePrivateKey, HpkePrivateKey]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = DeterministicRandom(f"device {self.name} suite {self.suite.suite_id}")
        self.signing_key = self.suite.signature.generate(self.rng)

    @property
    def credential(self) -> BasicCredential:
        return BasicCredential(identity=self.name.encode())

    def key_package(self) -> KeyPackage:
        created = create_key_package(
            self.suite,
            self.signing_key,
            self.credential,
            capabilities(self.suite),
            default_lifetime(NOW),
            (),
            (),
            self.rng,
        )
        package = created.key_package
        self._packages[package.to_bytes()] = (
            created.init_private_key,
            created.encryption_private_key,
        )
        return package

    def create_group(self, group_id: bytes) -> Group:
        self.group = Group.create(
            self.suite,
            group_id,
            self.signing_key,
            self.credential,
            capabilities(self.suite),
            default_lifetime(NOW),
            self.rng,
        )
        return self.group

    def join(self, welcome: bytes, package: KeyPackage) -> Group:
        body = MLSMessage.from_bytes(welcome).body
        assert isinstance(body, Welcome)
        init_key, encryption_key = self._packages.pop(package.to_bytes())
        state = join_from_welcome(self.suite, body, package, init_key, encryption_key, NOW)
        self.group = Group(state, self.signing_key)
        return self.group


def join_if_valid(
    device: Device,
    welcome: bytes,
    package: KeyPackage,
    *,
    ratchet_tree: RatchetTree | None = None,
) -> Group:
    """Join like :meth:`Device.join`, optionally with a tree handed over apart from the
    Welcome. The key package is used up only when the join succeeds, so a refused Welcome
    can be followed by the genuine one."""
    body = MLSMessage.from_bytes(welcome).body
    assert isinstance(body, Welcome)
    init_key, encryption_key = device._packages[package.to_bytes()]
    state = join_from_welcome(
        device.suite, body, package, init_key, encryption_key, NOW, ratchet_tree=ratchet_tree
    )
    del device._packages[package.to_bytes()]
    device.group = Group(state, device.signing_key)
    return device.group


def create_group_with(device: Device, group_id: bytes, extensions: tuple[Extension, ...]) -> Group:
    """Like :meth:`Device.create_group`, with group context extensions set at creation."""
    device.group = Group.create(
        device.suite,
        group_id,
        device.signing_key,
        device.credential,
        capabilities(device.suite),
        default_lifetime(NOW),
        device.rng,
        extensions=extensions,
    )
    return device.group


@dataclass
class Coordinator:
    """The case coordinator: an external sender named in the group's external_senders."""

    suite: CipherSuite
    rng: DeterministicRandom = field(init=False)
    signing_key: SigningKey = field(init=False)

    def __post_init__(self) -> None:
        self.rng = DeterministicRandom(f"coordinator suite {self.suite.suite_id}")
        self.signing_key = self.suite.signature.generate(self.rng)

    @property
    def credential(self) -> BasicCredential:
        return BasicCredential(identity=b"coordinator")

    def extension(self) -> Extension:
        """external_senders naming the coordinator as external sender 0."""
        return external_senders_extension(((self.signing_key.public_key, self.credential),))

    def propose(self, group_id: bytes, epoch: int, proposal: Proposal) -> bytes:
        return external_proposal(self.suite, self.signing_key, 0, group_id, epoch, proposal)


def deliver(message: bytes, *groups: Group) -> None:
    """Every listed member processes a commit and merges it."""
    for group in groups:
        processed = group.process(message, NOW)
        assert processed.staged is not None
        group.merge(processed.staged)


def build(suite: CipherSuite, names: list[str], group_id: bytes) -> list[Device]:
    """A group of ``names``: the first creates it and adds the others one commit at a time."""
    devices = [Device(suite, name) for name in names]
    creator = devices[0].create_group(group_id)
    for device in devices[1:]:
        package = device.key_package()
        pending = creator.commit(devices[0].rng, NOW, add=(package,))
        deliver(pending.message, *[d.group for d in devices[1:] if d.group is not None])
        creator.merge_pending()
        assert pending.welcome is not None
        device.join(pending.welcome, package)
    return devices
