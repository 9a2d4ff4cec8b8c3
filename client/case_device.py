"""A device's view of the cases it holds (DESIGN §4): the stored case with its MLS group, the
epoch keys the exporter gives, which certified device sits at each leaf, and the check
every item passes before it is kept — the author's signature under the credential the
transparency log holds for that device. Work on a case holds its lock
(:mod:`client.case_locks`); so does the replay of the log, which several tasks may ask for.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from client.case_errors import (
    AuthorMismatchError,
    NotInCaseError,
    RemovedFromCaseError,
    UnknownCaseError,
)
from client.case_locks import CaseLocks
from client.case_state import CaseState
from client.device import Device
from client.stored_item import StoredItem
from crypto.errors import CasecircleError
from protocol.case_envelope import (
    CaseEnvelope,
    EpochKeys,
    export_epoch_keys,
    open_envelope,
)
from protocol.directory import (
    DeviceCredential,
    DirectoryError,
    Revocation,
    SignedDeviceCredential,
    parse_mls_credential,
)
from protocol.mls.group import Group


@dataclass(slots=True)
class OpenCase:
    """A case loaded for work: its record and, unless removed, its group."""

    state: CaseState
    group: Group | None
    cursor: int
    dirty_epochs: set[int] = field(default_factory=set)


class CaseDevice(Device):
    """A device that holds cases: see the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._locks = CaseLocks()

    async def refresh_directory(self) -> list[Revocation]:
        """:meth:`Device.refresh_directory`, one replay at a time: two replays interleaved
        could each apply the log and leave the older head in place."""
        async with self._locks.directory():
            return await super().refresh_directory()

    async def _load(self, case_id: bytes) -> OpenCase:
        record = await self.store.load_group(case_id)
        if record is None:
            raise UnknownCaseError("this device holds no such case")
        state = CaseState.from_bytes(record.state)
        group = (
            None if state.removed else Group.from_bytes(state.mls_state, self.profile.signing_key)
        )
        return OpenCase(state=state, group=group, cursor=record.cursor)

    async def _save(self, case_id: bytes, case: OpenCase) -> None:
        if case.group is not None and case.group.active:
            case.state.mls_state = case.group.to_bytes()
        await self.store.save_group(case_id, case.state.to_bytes(), case.cursor)

    def _keys(self, group: Group) -> EpochKeys:
        return export_epoch_keys(group.epoch, group.group_id, group.export_secret)

    def _own_signed(self) -> SignedDeviceCredential:
        for issued in self.directory.member_devices(self.member_id):
            if issued.credential.device_id == self.device_id:
                return issued.signed
        raise DirectoryError("this device's own credential is not in the log")

    def _leaf_of(self, group: Group, device_id: bytes) -> int:
        for index, credential in certified_members(group).items():
            if credential.device_id == device_id:
                return index
        raise NotInCaseError("the device is not a member of this case")

    def _untrusted_leaves(self, group: Group) -> list[int]:
        """Leaves whose credential is not logged, not valid now, or revoked."""
        now = self.clock()
        bad = []
        for index, leaf in group.state.tree.members():
            try:
                self.directory.check_leaf(
                    leaf.credential, leaf.signature_key, self.suite.suite_id, now
                )
            except CasecircleError:
                bad.append(index)
        return bad

    def _require_group(self, case: OpenCase) -> Group:
        if case.group is None or not case.group.active:
            raise RemovedFromCaseError("this device was removed from the case")
        return case.group

    def _history_keys(self, case: OpenCase, epoch: int) -> EpochKeys | None:
        key = case.state.history_keys.get(epoch)
        if key is None:
            return None
        return EpochKeys(epoch=epoch, history_key=key, ring_key=b"")

    def _verify(
        self,
        case_id: bytes,
        envelope: CaseEnvelope,
        keys: EpochKeys,
        *,
        expected_author: bytes | None,
    ) -> StoredItem:
        opened = open_envelope(self.suite, case_id, keys, envelope)
        if expected_author is not None and opened.author != expected_author:
            raise AuthorMismatchError("the item's author is not the member who sent it")
        issued = next(
            (d for d in self.directory.devices() if d.credential.device_id == opened.author),
            None,
        )
        if issued is None:
            raise DirectoryError("the item's author is not in the transparency log")
        verified = opened.verify(self.suite, issued.credential.signature_key)
        return StoredItem(
            item_id=verified.item_id,
            epoch=verified.epoch,
            author=verified.author,
            author_credential=issued.signed,
            counter=verified.counter,
            item=verified.item,
        )


def certified_members(group: Group) -> dict[int, DeviceCredential]:
    """Leaf index → the certified device of every member (unverifiable ones left out)."""
    members: dict[int, DeviceCredential] = {}
    for index, leaf in group.state.tree.members():
        with contextlib.suppress(CasecircleError):
            members[index] = parse_mls_credential(leaf.credential).credential
    return members
