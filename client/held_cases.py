"""What a device holds of a case, read from its local store without the relay: the case's
state and its verified items. The command line's reading commands and the desktop app's
offline view both show cases from here."""

from __future__ import annotations

from client.case_errors import UnknownCaseError
from client.case_state import CaseState
from client.member import ShownItem
from client.store import LocalStore
from client.stored_item import StoredItem


async def case_state(store: LocalStore, case_id: bytes) -> CaseState:
    """What the device keeps of a case (removed or not, keys, waiting envelopes)."""
    record = await store.load_group(case_id)
    if record is None:
        raise UnknownCaseError("this device holds no such case")
    return CaseState.from_bytes(record.state)


async def stored_items(store: LocalStore, case_id: bytes) -> list[ShownItem]:
    """The case's verified items held here: in relay order, unsent last."""
    shown_items = [
        ShownItem(r.seq, StoredItem.from_bytes(r.body)) for r in await store.notes(case_id)
    ]
    return sorted(shown_items, key=lambda s: (s.seq is None, s.seq or 0))
