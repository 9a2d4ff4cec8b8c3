"""What a device keeps about one case, stored as the sealed ``groups.state`` of the local
store (:mod:`client.store`): the MLS group, the history keys, and the envelopes still
waiting for one. TLS presentation language, decoded strictly::

    struct {
        uint16 version;                      /* 1 */
        opaque mls_state<V>;                 /* Group.to_bytes() */
        uint64 own_counter;                  /* items this device wrote in the case */
        uint8 history_policy;                /* 0 unknown yet, else HistoryPolicy */
        uint8 removed;                       /* 1 once a commit removed this device */
        RingEntry history_keys<V>;           /* every epoch key known here, ascending */
        PendingEnvelope waiting<V>;          /* envelopes of epochs whose key is not here */
    } CaseState;

    struct { uint64 seq; opaque envelope<V>; } PendingEnvelope;

The history keys are kept so that a member can hand them on (``full`` policy) and read
envelopes of earlier epochs from the relay's log. They are secrets: the store seals this
whole record under the storage key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from protocol.case_items import HistoryPolicy
from protocol.codec import Reader, Struct, Writer
from protocol.errors import DecodeError

CASE_STATE_VERSION = 1


@dataclass(slots=True, kw_only=True, repr=False)
class CaseState(Struct):
    mls_state: bytes
    own_counter: int = 0
    history_policy: HistoryPolicy | None = None
    removed: bool = False
    history_keys: dict[int, bytes] = field(default_factory=dict)
    waiting: list[tuple[int, bytes]] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"CaseState(epochs={sorted(self.history_keys)}, <redacted>)"

    def encode(self, w: Writer) -> None:
        w.uint16(CASE_STATE_VERSION)
        w.opaque(self.mls_state)
        w.uint64(self.own_counter)
        w.uint8(0 if self.history_policy is None else self.history_policy)
        w.uint8(1 if self.removed else 0)

        def key(w: Writer, item: tuple[int, bytes]) -> None:
            w.uint64(item[0])
            w.opaque(item[1])

        w.vector(sorted(self.history_keys.items()), key)
        w.vector(self.waiting, key)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        version = r.uint16()
        if version != CASE_STATE_VERSION:
            raise DecodeError(f"unknown case state version {version}")
        mls_state = r.opaque()
        counter = r.uint64()
        policy = r.uint8()
        removed = r.uint8()
        if removed > 1:
            raise DecodeError("removed is a flag")
        keys = r.vector(lambda r: (r.uint64(), r.opaque()))
        waiting = r.vector(lambda r: (r.uint64(), r.opaque()))
        try:
            history_policy = None if policy == 0 else HistoryPolicy(policy)
        except ValueError:
            raise DecodeError(f"unknown history policy {policy}") from None
        return cls(
            mls_state=mls_state,
            own_counter=counter,
            history_policy=history_policy,
            removed=bool(removed),
            history_keys=dict(keys),
            waiting=list(waiting),
        )
