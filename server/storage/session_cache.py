"""Sessions and their devices kept in memory, so that authenticating a request does not
wait for a read on the reader thread (every request but a login needs one).

A session row and its device record change only when the device is revoked (which also
deletes its sessions) or when expired sessions are purged. Both call :meth:`invalidate`
once committed, and a read that began before an invalidation is not stored: so what this
cache answers is always what a read from the database would answer now, and a revoked
device is refused from its next request on. Unknown tokens are never cached, so guessing
cannot fill it; at ``max_entries`` it starts again empty.
"""

from __future__ import annotations

from server.storage.interface import DeviceRecord, Session

SessionDevice = tuple[Session, DeviceRecord | None]
MAX_ENTRIES = 65_536


class SessionCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max_entries = max_entries
        self._entries: dict[bytes, SessionDevice] = {}
        self._generation = 0

    @property
    def generation(self) -> int:
        """Take this before a read; hand it to :meth:`put` with what the read found."""
        return self._generation

    def get(self, token_hash: bytes) -> SessionDevice | None:
        return self._entries.get(token_hash)

    def put(self, token_hash: bytes, found: SessionDevice, generation: int) -> None:
        if generation != self._generation:  # read before a revocation or purge: maybe stale
            return
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[token_hash] = found

    def invalidate(self) -> None:
        self._generation += 1
        self._entries.clear()
