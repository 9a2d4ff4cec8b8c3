"""Joining cases (RFC 9420 §12.4.3.1; DESIGN §4; ATTACKS A1, A10, C4): the KeyPackages a
device publishes so that others can add it, and the Welcomes that bring it into a case.

A Welcome is taken only from a committer whose credential holds, and only with a
KeyPackage this device still holds (a one-time one is deleted once used). A Welcome into a
case this device holds is the one it joined with, unless a removal it had not fetched yet
came first: the case is caught up before that is decided. A device removed from a case
joins it again from a Welcome into a later epoch, keeping its counter, history keys,
ledger and cursor — the log is read on from the commit that removed it.
"""

from __future__ import annotations

from client.case_device import OpenCase
from client.case_errors import (
    KeyPackageUsedError,
    UntrustedMemberError,
    UntrustedWelcomeError,
    WrongChannelError,
)
from client.case_receiving import CaseReceiving
from client.case_state import CaseState
from crypto.errors import CasecircleError
from protocol.codec import Writer, decode_exact
from protocol.directory import mls_credential
from protocol.errors import WrongGroupError
from protocol.mls.capabilities import supported_capabilities
from protocol.mls.framing import MLSMessage
from protocol.mls.group import Group
from protocol.mls.joining import join_from_welcome
from protocol.mls.key_package import KeyPackage
from protocol.mls.key_packages import create_key_package, default_lifetime, key_package_ref
from protocol.mls.welcome import Welcome
from protocol.mls.welcome_protection import open_welcome

KEY_PACKAGE_BATCH = 10


class CaseJoining(CaseReceiving):
    """A device that can be added to cases: see the module docstring."""

    async def publish_key_packages(self, count: int = KEY_PACKAGE_BATCH) -> None:
        """Publish ``count`` one-time KeyPackages and a last-resort one; their private keys
        stay in the local store until a Welcome uses them."""
        async with self._locks.device():
            signed = self.directory.devices()
            own = next(d.signed for d in signed if d.credential.device_id == self.device_id)
            packages: list[bytes] = []
            last_resort: bytes | None = None
            for index in range(count + 1):
                created = create_key_package(
                    self.suite,
                    self.profile.signing_key,
                    mls_credential(own),
                    supported_capabilities(),
                    default_lifetime(self.clock()),
                    (),
                    (),
                    self.rng,
                )
                package = created.key_package
                secret = (
                    self.suite.kem.serialize_private_key(created.init_private_key),
                    self.suite.kem.serialize_private_key(created.encryption_private_key),
                )
                encoded = MLSMessage(body=package).to_bytes()
                await self.store.save_key_package_secret(
                    key_package_ref(self.suite, package),
                    _pack_key_package_secret(package.to_bytes(), *secret),
                    last_resort=index == count,
                )
                if index == count:
                    last_resort = encoded
                else:
                    packages.append(encoded)
            await self.api.upload_key_packages(packages, last_resort)

    async def _take_welcome(self, case_id: bytes, raw: bytes) -> bool:
        """Join (or join again) the case an inbox item's Welcome invites this device to;
        whether it did. A refused Welcome is recorded; a stale one — of a membership this
        device has or had — is not: the inbox keeps those, and a replayed one looks just
        like them (C4). The caller holds the device lock and the case's lock."""
        self._locks.require_case(case_id)
        record = await self.store.load_group(case_id)
        if record is not None and not CaseState.from_bytes(record.state).removed:
            # The Welcome this device joined with, or one adding it again after a removal
            # it has not fetched yet: only the case's log tells.
            await self._sync_case(case_id, commit_proposals=False)
            if not await self._removed_from(case_id):
                return False
        previous = None if record is None else await self._load(case_id)
        try:
            state = await self._welcome_state(case_id, raw, previous)
        except CasecircleError as exc:
            await self.record(exc, group_id=case_id)
            return False
        if state is None:
            return False
        cursor = 0 if previous is None else previous.cursor
        await self.store.save_group(case_id, state.to_bytes(), cursor)
        return True

    async def _removed_from(self, case_id: bytes) -> bool:
        record = await self.store.load_group(case_id)
        return record is not None and CaseState.from_bytes(record.state).removed

    async def _welcome_state(
        self, case_id: bytes, raw: bytes, previous: OpenCase | None
    ) -> CaseState | None:
        """The case state a Welcome starts, or ``None`` for a stale Welcome of a case this
        device left; raises for a Welcome that must not be taken."""
        joined = await self._join(raw)
        if joined is None:
            if previous is None:
                raise KeyPackageUsedError("a Welcome for a KeyPackage this device does not hold")
            return None  # the Welcome of an earlier membership: its KeyPackage is spent
        group, adder = joined
        if group.group_id != case_id:
            raise WrongGroupError("a Welcome for another case than its inbox entry names")
        if previous is None:
            state = CaseState(mls_state=group.to_bytes())
        else:
            left = Group.from_bytes(previous.state.mls_state, self.profile.signing_key).epoch
            if group.epoch <= left:
                return None  # an earlier membership's Welcome (last-resort KeyPackage)
            state = previous.state
            state.mls_state, state.removed = group.to_bytes(), False
        state.adder = adder
        state.history_keys[group.epoch] = self._keys(group).history_key
        return state

    async def _join(self, raw: bytes) -> tuple[Group, bytes] | None:
        """The group a Welcome starts and the device that signed it (the committer who added
        us), or ``None`` if it names no KeyPackage this device holds."""
        welcome = MLSMessage.from_bytes(raw).body
        if not isinstance(welcome, Welcome):
            raise WrongChannelError("an inbox item that is not a Welcome")
        for secrets in welcome.secrets:
            stored = await self.store.key_package_secret(secrets.new_member)
            if stored is None:
                continue
            package_bytes, init_key, encryption_key = _unpack_key_package_secret(stored.secret)
            package = KeyPackage.from_bytes(package_bytes)
            init_private = self.suite.kem.deserialize_private_key(init_key)
            signer = open_welcome(
                self.suite, welcome, package, init_private
            ).unverified_group_info.signer
            if not stored.last_resort:
                await self.store.delete_key_package_secret(secrets.new_member)
            state = join_from_welcome(
                self.suite,
                welcome,
                package,
                init_private,
                self.suite.kem.deserialize_private_key(encryption_key),
                self.clock(),
            )
            group = Group(state, self.profile.signing_key)
            committer = group.state.tree.member(signer)
            try:
                adder = self.directory.check_leaf(
                    committer.credential, committer.signature_key, self.suite.suite_id, self.clock()
                )
            except CasecircleError as exc:
                raise UntrustedWelcomeError("the Welcome's committer is not certified") from exc
            if self._untrusted_leaves(group):
                await self.record(
                    UntrustedMemberError("welcome into a case with an uncertified member"),
                    group_id=group.group_id,
                )
            return group, adder.device_id
        return None


def _pack_key_package_secret(package: bytes, init_key: bytes, encryption_key: bytes) -> bytes:
    """``struct { opaque key_package<V>; opaque init_key<V>; opaque encryption_key<V>; }``"""
    w = Writer()
    for part in (package, init_key, encryption_key):
        w.opaque(part)
    return w.getvalue()


def _unpack_key_package_secret(data: bytes) -> tuple[bytes, bytes, bytes]:
    return decode_exact(data, lambda r: (r.opaque(), r.opaque(), r.opaque()))
