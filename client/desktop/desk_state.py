"""What the desktop app remembers between runs besides the cases: unsent drafts, how far
each case was read, and which colleagues' keys the user verified.

Drafts are case text, and the verified keys say who works with whom, so the file is sealed
under the profile's storage key like the local database's fields
(:mod:`client.sealed_fields`) and replaced atomically: a draft saved is never half-written,
and a stolen, locked laptop shows nothing of it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client.profile import UnlockedProfile, replace_durably
from client.sealed_fields import FieldSealer, StoreError, row_key

DESK_FILE = "desktop.sealed"
_TABLE, _COLUMN, _ROW = "desktop", "state", row_key(b"desk")
MAX_DRAFT_CHARS = 200_000


class DeskStateError(StoreError):
    """The desktop state file opened but does not hold what this version writes."""

    code = "desk_state"


@dataclass(slots=True)
class DeskState:
    """Drafts and read marks by case id, verified signature keys by device id (all hex),
    and how far the security event log was looked at."""

    drafts: dict[str, str] = field(default_factory=dict)
    read_upto: dict[str, int] = field(default_factory=dict)
    verified_keys: dict[str, str] = field(default_factory=dict)
    events_seen: int = 0  # the last security event the user looked at

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "version": 1,
                "drafts": self.drafts,
                "read_upto": self.read_upto,
                "verified_keys": self.verified_keys,
                "events_seen": self.events_seen,
            },
            ensure_ascii=False,
            sort_keys=True,
        ).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> DeskState:
        try:
            value: Any = json.loads(data.decode("utf-8"))
            if not isinstance(value, dict) or value.get("version") != 1:
                raise DeskStateError("unknown desktop state version")
            drafts = _str_map(value.get("drafts", {}), str)
            read_upto = _str_map(value.get("read_upto", {}), int)
            verified = _str_map(value.get("verified_keys", {}), str)
            events_seen = value.get("events_seen", 0)
            if type(events_seen) is not int or events_seen < 0:
                raise DeskStateError("the desktop state has a malformed event mark")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DeskStateError("the desktop state is not valid JSON") from exc
        return cls(
            drafts=drafts, read_upto=read_upto, verified_keys=verified, events_seen=events_seen
        )


def _str_map(value: object, kind: type) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and type(v) is kind for k, v in value.items()
    ):
        raise DeskStateError("the desktop state has a malformed map")
    return dict(value)


class DeskStateFile:
    """The sealed file in the profile directory; reads and writes run off the event loop."""

    def __init__(self, profile: UnlockedProfile) -> None:
        self._profile = profile
        self._path: Path = profile.layout.root / DESK_FILE
        self._lock = asyncio.Lock()

    def _sealer(self) -> FieldSealer:
        return FieldSealer(self._profile.storage_key, self._profile.profile.rng)

    async def load(self) -> DeskState:
        if not self._path.exists():
            return DeskState()
        data = await asyncio.to_thread(self._path.read_bytes)
        return DeskState.from_json(self._sealer().open(_TABLE, _COLUMN, _ROW, data))

    async def save(self, state: DeskState) -> None:
        sealed = self._sealer().seal(_TABLE, _COLUMN, _ROW, state.to_json())
        async with self._lock:
            await asyncio.to_thread(replace_durably, self._path, sealed)
