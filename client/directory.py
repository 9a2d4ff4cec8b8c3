"""The client's own replay of the transparency log (DESIGN §5–§6; ATTACKS A1–A7).

A device never takes the relay's word for who someone is. It downloads every log entry,
checks the platform root's signature on each, recomputes the Merkle root and compares it
with a tree head the relay signed; the head must extend every head this device saw before
(a smaller tree is a rollback, the same size with another root a fork). Only then is the
directory answered from what was replayed:

* a credential is accepted only if its exact signed statement is in the replayed log (so
  it is visible to its owner and the auditor), valid now, and not revoked;
* a member sees every device ever issued in their name;
* revocations are learnt here and acted on by the member's client.

The log holds one entry per device issuance or revocation — thousands for a town's
platform — so replaying it whole is cheap and stronger than per-credential proofs: there
is no entry the client has not checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from client.relay_api import RelayApi
from client.store import LocalStore
from protocol.directory import (
    COORDINATOR_ROLE,
    CredentialExpiredError,
    CredentialKeyMismatchError,
    CredentialNotYetValidError,
    DeviceCredential,
    DeviceRevokedError,
    DirectoryError,
    LogEntry,
    Revocation,
    RevocationReason,
    SignedDeviceCredential,
    parse_mls_credential,
    verify_log_entry,
)
from protocol.mls.credentials import Credential
from protocol.transparency import (
    CompactMerkleLog,
    ForkDetectedError,
    InclusionProofError,
    SignedTreeHead,
    TreeHeadRollbackError,
    leaf_hash,
    verify_tree_head,
)

PAGE = 1000


class UnknownCredentialError(DirectoryError):
    """The credential is not in the transparency log: the relay or an insider made it up,
    or it was never published (ATTACKS A1–A3)."""

    code = "credential_not_logged"


class LogMismatchError(InclusionProofError):
    """The entries the relay served do not hash to the tree head it signed."""

    code = "log_mismatch"


class DeviceStanding(StrEnum):
    """A device's standing in the log at some moment."""

    ACTIVE = "active"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(slots=True)
class IssuedDevice:
    """One device as the log tells it: its credential and, if revoked, the revocation."""

    credential: DeviceCredential
    signed: SignedDeviceCredential
    log_index: int
    revocation: Revocation | None = None

    def standing(self, now: int) -> DeviceStanding:
        if self.revocation is not None:
            return DeviceStanding.REVOKED
        if now > self.credential.not_after:
            return DeviceStanding.EXPIRED
        if now < self.credential.not_before:
            return DeviceStanding.NOT_YET_VALID
        return DeviceStanding.ACTIVE


def reason_name(reason: RevocationReason | int) -> str:
    """The stable name of a revocation reason (``device-lost``), or its number if unknown."""
    if isinstance(reason, RevocationReason):
        return reason.name.lower().replace("_", "-")
    return str(reason)


@dataclass(slots=True)
class Directory:
    """Everything the platform root issued and revoked, replayed and checked here."""

    root_public_key: bytes
    relay_public_key: bytes
    _log: CompactMerkleLog = field(default_factory=CompactMerkleLog)
    _head: SignedTreeHead | None = None
    _devices: dict[bytes, IssuedDevice] = field(default_factory=dict)
    _statements: set[bytes] = field(default_factory=set)
    _revoked: dict[bytes, Revocation] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self._log.tree_size

    @property
    def head(self) -> SignedTreeHead | None:
        return self._head

    async def refresh(self, api: RelayApi, store: LocalStore | None = None) -> list[Revocation]:
        """Replay the log up to the relay's current signed head; the revocations it brought.

        Raises ``TreeHeadSignatureError``, :class:`TreeHeadRollbackError`,
        :class:`ForkDetectedError`, :class:`LogMismatchError` or a ``DirectoryError`` for an
        entry the root did not sign — and then keeps nothing of what it fetched.
        """
        signed = SignedTreeHead.from_bytes(await api.tree_head())
        head = verify_tree_head(self.relay_public_key, signed)
        remembered = self._head
        if store is not None:
            stored = await store.latest_tree_head()
            if stored is not None and (
                remembered is None or stored.tree_head.tree_size > remembered.tree_head.tree_size
            ):
                remembered = stored
        if remembered is not None:
            old = remembered.tree_head
            if head.tree_size < old.tree_size:
                raise TreeHeadRollbackError(
                    f"the relay shows {head.tree_size} log entries; {old.tree_size} were seen"
                )
            if head.tree_size == old.tree_size and head.root_hash != old.root_hash:
                raise ForkDetectedError("two logs of the same size", remembered, signed)
        leaves: list[bytes] = []
        start = self.size
        while start + len(leaves) < head.tree_size:
            first = start + len(leaves)
            page = await api.log_entries(first, min(first + PAGE, head.tree_size))
            if not page:
                raise LogMismatchError("the relay serves fewer entries than its head counts")
            leaves.extend(page)
        log = self._log
        decoded: list[DeviceCredential | Revocation] = []
        statements: list[LogEntry] = []
        for leaf in leaves:
            entry = LogEntry.from_bytes(leaf)
            decoded.append(verify_log_entry(self.root_public_key, entry))
            statements.append(entry)
            log = log.append(leaf_hash(leaf)).log
            if (
                remembered is not None
                and log.tree_size == remembered.tree_head.tree_size
                and log.root_hash() != remembered.tree_head.root_hash
            ):
                raise ForkDetectedError(
                    "the log changed under a head seen before", remembered, signed
                )
        if log.root_hash() != head.root_hash:
            raise LogMismatchError("the log entries do not hash to the signed tree head")
        revocations = self._apply(start, statements, decoded)
        self._log = log
        self._head = signed
        if store is not None:
            await store.record_tree_head(signed)
        return revocations

    def _apply(
        self,
        start: int,
        entries: list[LogEntry],
        decoded: list[DeviceCredential | Revocation],
    ) -> list[Revocation]:
        revocations: list[Revocation] = []
        for offset, (entry, statement) in enumerate(zip(entries, decoded, strict=True)):
            if isinstance(statement, Revocation):
                self._revoked.setdefault(statement.device_id, statement)
                known = self._devices.get(statement.device_id)
                if known is not None and known.revocation is None:
                    known.revocation = statement
                revocations.append(statement)
                continue
            signed = entry.statement
            assert isinstance(signed, SignedDeviceCredential)
            self._statements.add(signed.to_bytes())
            self._devices[statement.device_id] = IssuedDevice(
                credential=statement,
                signed=signed,
                log_index=start + offset,
                revocation=self._revoked.get(statement.device_id),
            )
        return revocations

    # --- answers ------------------------------------------------------------------------

    def device(self, device_id: bytes, now: int) -> DeviceCredential:
        """A device's credential, if logged, valid at ``now`` and not revoked."""
        issued = self._devices.get(device_id)
        if issued is None:
            raise UnknownCredentialError("no such device in the transparency log")
        return self._usable(issued, now)

    def _usable(self, issued: IssuedDevice, now: int) -> DeviceCredential:
        if issued.revocation is not None:
            raise DeviceRevokedError(f"device revoked at {issued.revocation.revoked_at}")
        credential = issued.credential
        if now < credential.not_before:
            raise CredentialNotYetValidError(f"credential is valid from {credential.not_before}")
        if now > credential.not_after:
            raise CredentialExpiredError(f"credential expired at {credential.not_after}")
        return credential

    def check_leaf(
        self, credential: Credential, signature_key: bytes, cipher_suite: int, now: int
    ) -> DeviceCredential:
        """The certified device behind an MLS leaf: its credential must be a logged
        statement, certify exactly this key for this suite, and be usable now."""
        signed = parse_mls_credential(credential)
        if signed.to_bytes() not in self._statements:
            raise UnknownCredentialError("the leaf's credential is not in the transparency log")
        issued = self._devices[signed.credential.device_id]
        if issued.signed.to_bytes() != signed.to_bytes():
            raise UnknownCredentialError("the leaf carries a superseded credential")
        verified = self._usable(issued, now)
        if verified.signature_key != signature_key or verified.cipher_suite != cipher_suite:
            raise CredentialKeyMismatchError("the credential certifies another key or suite")
        return verified

    def is_revoked(self, device_id: bytes) -> bool:
        return device_id in self._revoked

    def member_devices(self, member_id: bytes) -> list[IssuedDevice]:
        """Every device ever issued to ``member_id``, in log order, revoked ones included."""
        return sorted(
            (d for d in self._devices.values() if d.credential.member_id == member_id),
            key=lambda d: d.log_index,
        )

    def devices(self) -> list[IssuedDevice]:
        return sorted(self._devices.values(), key=lambda d: d.log_index)

    def coordinator_keys(self, now: int) -> dict[bytes, DeviceCredential]:
        """Signature key → credential of every usable coordinator device."""
        keys: dict[bytes, DeviceCredential] = {}
        for issued in self._devices.values():
            if issued.credential.role != COORDINATOR_ROLE:
                continue
            try:
                credential = self._usable(issued, now)
            except DirectoryError:
                continue
            keys[credential.signature_key] = credential
        return keys
