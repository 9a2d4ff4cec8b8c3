"""The relay's in-memory sessions never answer with what a revocation or purge changed."""

from __future__ import annotations

from server.storage.interface import DeviceRecord, Session
from server.storage.session_cache import SessionCache

DEVICE = DeviceRecord(
    device_id=b"d" * 16,
    member_id=b"m" * 16,
    cipher_suite=1,
    signature_key=b"k" * 32,
    not_before=0,
    not_after=100,
    credential=b"c",
    log_index=0,
)
FOUND = (Session(device_id=DEVICE.device_id, expires_at=50), DEVICE)


def test_a_read_begun_before_an_invalidation_is_not_kept() -> None:
    cache = SessionCache()
    before = cache.generation
    cache.invalidate()  # a revocation committed while the read was on its way
    cache.put(b"t", FOUND, before)
    assert cache.get(b"t") is None
    cache.put(b"t", FOUND, cache.generation)
    assert cache.get(b"t") == FOUND


def test_invalidation_forgets_everything() -> None:
    cache = SessionCache()
    cache.put(b"t", FOUND, cache.generation)
    cache.invalidate()
    assert cache.get(b"t") is None


def test_the_cache_is_bounded() -> None:
    cache = SessionCache(max_entries=2)
    for token in (b"a", b"b", b"c"):
        cache.put(token, FOUND, cache.generation)
    assert [cache.get(t) is not None for t in (b"a", b"b", b"c")] == [False, False, True]
