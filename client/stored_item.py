"""A case item as the device stores it once verified: the ``notes.body`` of the local store.

::

    struct {
        opaque item_id[16];
        uint64 epoch;
        opaque author[16];                   /* device id */
        opaque author_credential<V>;         /* the SignedDeviceCredential it verified under */
        uint64 counter;
        opaque item<V>;                      /* protocol.case_items.CaseItem */
    } StoredItem;

The author's credential is kept with the item so that the item can be shown with the name
and organisation it was certified under at the time, even after the author's device was
revoked or expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from protocol.case_items import CaseItem, decode_item, encode_item
from protocol.codec import Reader, Struct, Writer
from protocol.directory import ID_SIZE, DeviceCredential, SignedDeviceCredential


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredItem(Struct):
    item_id: bytes
    epoch: int
    author: bytes
    author_credential: SignedDeviceCredential
    counter: int
    item: CaseItem

    @property
    def credential(self) -> DeviceCredential:
        return self.author_credential.credential

    def encode(self, w: Writer) -> None:
        w.fixed(self.item_id)
        w.uint64(self.epoch)
        w.fixed(self.author)
        w.opaque(self.author_credential.to_bytes())
        w.uint64(self.counter)
        w.opaque(encode_item(self.item))

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(
            item_id=r.fixed(ID_SIZE),
            epoch=r.uint64(),
            author=r.fixed(ID_SIZE),
            author_credential=SignedDeviceCredential.from_bytes(r.opaque()),
            counter=r.uint64(),
            item=decode_item(r.opaque()),
        )
