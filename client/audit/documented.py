"""docs/zero-knowledge.md as data: every table, column, file and logger the relay may have.

The auditor must work from an installed package, without the project's docs/ at hand, so
the inventory it checks the relay against is kept here as data.
``tests/client/audit/test_documented.py`` parses docs/zero-knowledge.md and proves the two
agree exactly (names and classes); ``tests/server/storage/test_inventory.py`` proves the
document covers the schema the relay's migrations create. Change all three together.

Classes, as the document's legend defines them: ``C`` ciphertext or opaque MLS bytes the
relay cannot read; ``P`` public by design (signed directory data); ``M`` metadata the relay
can read. A star (``C*``, ``M*``) marks a column whose row in the document qualifies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

DataClass = Literal["C", "C*", "P", "M", "M*"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentedColumn:
    table: str
    name: str
    data_class: DataClass

    @property
    def qualified(self) -> str:
        return f"{self.table}.{self.name}"


def _table(name: str, *columns: tuple[str, DataClass]) -> tuple[str, tuple[DocumentedColumn, ...]]:
    return name, tuple(DocumentedColumn(table=name, name=c, data_class=k) for c, k in columns)


DOCUMENTED_TABLES: Mapping[str, tuple[DocumentedColumn, ...]] = dict(
    [
        _table("schema_version", ("version", "M")),
        _table(
            "devices",
            ("device_id", "P"),
            ("member_id", "P"),
            ("cipher_suite", "P"),
            ("signature_key", "P"),
            ("not_before", "P"),
            ("not_after", "P"),
            ("credential", "P"),
            ("log_index", "P"),
            ("revoked_at", "M"),
            ("revocation_index", "P"),
        ),
        _table("log_entries", ("log_index", "P"), ("leaf", "P"), ("appended_at", "M")),
        _table(
            "key_packages",
            ("package_id", "M"),
            ("device_id", "P"),
            ("package", "C*"),
            ("last_resort", "M"),
        ),
        _table("sessions", ("token_hash", "M"), ("device_id", "P"), ("expires_at", "M")),
        _table("groups", ("group_id", "M"), ("epoch", "M"), ("last_seq", "M"), ("created_at", "M")),
        _table(
            "roster",
            ("group_id", "M"),
            ("device_id", "M"),
            ("until_seq", "M"),
            ("leaf_index", "M"),
        ),
        _table(
            "enrolments",
            ("invite_id", "M"),
            ("device_id", "M"),
            ("request", "M*"),
            ("status", "M"),
            ("received_at", "M"),
        ),
        _table("messages", ("group_id", "M"), ("seq", "M"), ("payload", "C"), ("received_at", "M")),
        _table("sends", ("idempotency_key", "M"), ("group_id", "M"), ("seq", "M")),
        _table(
            "welcomes",
            ("welcome_id", "M"),
            ("group_id", "M"),
            ("payload", "C"),
            ("received_at", "M"),
        ),
        _table("inbox", ("item_id", "M"), ("device_id", "P"), ("welcome_id", "M")),
        _table(
            "blobs",
            ("blob_id", "M"),
            ("group_id", "M"),
            ("owner", "P"),
            ("size", "M"),
            ("received", "M"),
            ("complete", "M"),
            ("created_at", "M"),
        ),
        _table("blob_chunks", ("blob_id", "M"), ("offset", "M"), ("data", "C")),
    ]
)

DATABASE_FILE = "relay.sqlite3"
IDENTITY_KEY_FILE = "relay-identity.key"
IDENTITY_PUBLIC_FILE = "relay-identity.pub"

DOCUMENTED_FILES: frozenset[str] = frozenset(
    {
        DATABASE_FILE,
        f"{DATABASE_FILE}-wal",
        f"{DATABASE_FILE}-shm",
        IDENTITY_KEY_FILE,
        IDENTITY_PUBLIC_FILE,
    }
)
"""Every file a relay data directory or an audit export may hold."""

DOCUMENTED_LOGGERS: frozenset[str] = frozenset(
    {
        "aiohttp.access",
        "server.middlewares",
        "server.storage.writer",
        "server.handlers.ws",
        "server.app",
        "aiohttp.server",
        "aiohttp.web",
        "aiohttp.websocket",
    }
)
"""The Python loggers the relay writes through (the document's "Logs" table)."""


def documented_column(table: str, column: str) -> DocumentedColumn | None:
    return next((c for c in DOCUMENTED_TABLES.get(table, ()) if c.name == column), None)
