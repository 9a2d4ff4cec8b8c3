"""client.audit.documented is docs/zero-knowledge.md as data: the two agree exactly, and the
schema the relay's migrations create passes the inventory check against it.

tests/server/storage/test_inventory.py proves the document covers the schema; its parser
of the per-table sections is reused here, and these tests add the exact comparison (names
and classes, files, loggers) that the auditor relies on when installed without docs/."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path

from client.audit.documented import (
    DOCUMENTED_FILES,
    DOCUMENTED_LOGGERS,
    DOCUMENTED_TABLES,
    DocumentedColumn,
)
from client.audit.inventory import check_inventory, describe
from client.audit.relay_data import RelayData
from client.audit.results import Status
from server.storage.sqlite import migrate
from tests.server.storage.test_inventory import INVENTORY, sections

_ROW = re.compile(
    r"^\|\s*(?P<names>[^|]*`[^|]*)\|\s*(?P<class>[CPM])(?P<star>\\?\*)?\s*\|", re.MULTILINE
)
"""A row of a table section: the column names, then the class (``C\\*`` escapes the star)."""


def _documented_columns() -> set[tuple[str, str, str]]:
    """(table, column, class) of every row of every table section of the document."""
    found = set()
    headings = re.findall(r"^### (.*)$", INVENTORY.read_text(encoding="utf-8"), re.MULTILINE)
    bodies = sections()
    for heading in headings:
        tables = re.findall(r"`(\w+)`", heading)
        for row in _ROW.finditer(bodies[tables[0]]):
            for name in re.findall(r"`([\w.]+)`", row.group("names")):
                table, _, column = name.rpartition(".")
                data_class = row.group("class") + ("*" if row.group("star") else "")
                found.add((table or tables[0], column, data_class))
    return found


def _section(title: str) -> str:
    text = INVENTORY.read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def _first_cells(title: str) -> list[str]:
    return [line.split("|")[1] for line in _section(title).splitlines() if line.startswith("| `")]


def test_the_data_lists_exactly_the_documented_columns_and_classes() -> None:
    data = {
        (c.table, c.name, c.data_class) for columns in DOCUMENTED_TABLES.values() for c in columns
    }
    assert data == _documented_columns()


def test_the_data_lists_exactly_the_documented_files() -> None:
    files = set()
    for cell in _first_cells("Files in the data directory"):
        names = re.findall(r"`([^`]+)`", cell)
        for name in names:
            files.add(names[0] + name if name.startswith("-") else name)
    assert files == DOCUMENTED_FILES


def test_the_data_lists_exactly_the_documented_loggers() -> None:
    loggers = {
        name
        for cell in _first_cells("Logs")
        for name in re.findall(r"`([a-z_]+(?:\.[a-z_]+)+)`", cell)
    }
    assert loggers == DOCUMENTED_LOGGERS


def test_the_migrated_schema_passes_the_inventory_check(tmp_path: Path) -> None:
    path = tmp_path / "relay.sqlite3"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        migrate(db)
        rows = describe(db)
        data = RelayData(
            path=tmp_path, files=(), db=db, relay_public_key=None, identity_problem=None
        )
        result = check_inventory(data, rows)
    assert result.status == Status.PASS, result.findings
    assert {row.state for row in rows} == {"documented"}
    assert len(rows) == sum(len(columns) for columns in DOCUMENTED_TABLES.values())


def test_a_qualified_column_names_its_table() -> None:
    column = DocumentedColumn(table="blob_chunks", name="data", data_class="C")
    assert column.qualified == "blob_chunks.data"
