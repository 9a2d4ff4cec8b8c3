"""docs/zero-knowledge.md names every table and column the migrated schema has (Z1-Z4):
anything the relay stores that the inventory does not list is a bug."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path

from server.storage.sqlite import migrate

INVENTORY = Path(__file__).resolve().parents[3] / "docs" / "zero-knowledge.md"


def sections() -> dict[str, str]:
    """Each table named in a ``###`` heading, with the text of its section."""
    text = INVENTORY.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for part in re.split(r"^### ", text, flags=re.MULTILINE)[1:]:
        heading, _, body = part.partition("\n")
        for table in re.findall(r"`(\w+)`", heading):
            found[table] = body.split("\n## ", 1)[0]
    return found


def schema(tmp_path: Path) -> dict[str, list[str]]:
    with contextlib.closing(sqlite3.connect(tmp_path / "relay.db", isolation_level=None)) as db:
        migrate(db)
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: [row[1] for row in db.execute(f"PRAGMA table_info({table})")] for table in tables
        }


def test_every_column_is_in_the_inventory(tmp_path: Path) -> None:
    documented = sections()
    for table, columns in schema(tmp_path).items():
        assert table in documented, f"table {table} is not in docs/zero-knowledge.md"
        section = documented[table]
        for column in columns:
            assert f"`{column}`" in section or f"`{table}.{column}`" in section, (
                f"{table}.{column} is not in docs/zero-knowledge.md"
            )
