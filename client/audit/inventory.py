"""Check 1, inventory (ATTACKS Z3): the relay stores exactly what docs/zero-knowledge.md lists.

Compared with :mod:`client.audit.documented`:

* every table, and every column of it (hidden and generated ones included), is documented,
  and every documented one exists — an extra column is how plaintext would be kept;
* there are no views, triggers or virtual tables, which could copy or derive data;
* the data directory holds only the documented files, and the relay's identity key is the
  one secret there, readable by its owner only (Z2);
* every line of the relay log files given comes from a documented logger.

It proves what is *stored*; what the relay holds in memory or sends elsewhere is beyond
any inspection of its disk (docs/guide-auditor.md).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from client.audit.documented import (
    DOCUMENTED_FILES,
    DOCUMENTED_LOGGERS,
    DOCUMENTED_TABLES,
    IDENTITY_KEY_FILE,
    DataClass,
    documented_column,
)
from client.audit.relay_data import RelayData, RelayFile
from client.audit.results import CheckResult, Evidence

CHECK = "inventory"
SQLITE_INTERNAL = ("sqlite_sequence", "sqlite_stat1", "sqlite_stat4")
OWNER_ONLY_MODE = 0o600

_RECORD = re.compile(
    r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} (?:DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+) "
)
"""The start of a record in the relay's log format (``casecircle server``:
``%(asctime)s %(levelname)s %(name)s %(message)s``); other lines continue a record."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InventoryRow:
    """One column as found (or as documented but not found), for the report's table."""

    table: str
    column: str
    data_class: DataClass | None
    declared_type: str
    rows: int
    storage: tuple[tuple[str, int], ...]
    """SQLite storage classes of the stored values (``typeof``) and how many of each."""
    state: str
    """``documented``, ``undocumented`` or ``missing``."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _objects(db: sqlite3.Connection) -> list[tuple[str, str, str, str]]:
    rows = db.execute("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master")
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]


def _columns(db: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    """(name, declared type) of every column, hidden and generated ones included."""
    try:
        rows = db.execute(f"PRAGMA table_xinfo({_quote(table)})").fetchall()
    except sqlite3.Error:  # a virtual table of a module this SQLite lacks
        return []
    return [(str(row[1]), str(row[2]).upper()) for row in rows]


def _storage(db: sqlite3.Connection, table: str, column: str) -> tuple[tuple[str, int], ...]:
    try:
        return _storage_classes(db, table, column)
    except sqlite3.Error:
        return ()


def _storage_classes(
    db: sqlite3.Connection, table: str, column: str
) -> tuple[tuple[str, int], ...]:
    rows = db.execute(
        f"SELECT typeof({_quote(column)}), count(*) FROM {_quote(table)}"  # noqa: S608 - quoted names
        " GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return tuple((str(kind), int(count)) for kind, count in rows)


def describe(db: sqlite3.Connection) -> tuple[InventoryRow, ...]:
    """Every column of every table found, then every documented column not found."""
    found: list[InventoryRow] = []
    seen: set[tuple[str, str]] = set()
    tables = sorted(
        name for kind, name, _, _ in _objects(db) if kind == "table" and not _internal(name)
    )
    for table in tables:
        count = f"SELECT count(*) FROM {_quote(table)}"  # noqa: S608 - a quoted name
        try:
            rows = int(db.execute(count).fetchone()[0])
        except sqlite3.Error:  # a virtual table of a module this SQLite lacks
            rows = -1
        for column, declared in _columns(db, table):
            documented = documented_column(table, column)
            seen.add((table, column))
            found.append(
                InventoryRow(
                    table=table,
                    column=column,
                    data_class=documented.data_class if documented else None,
                    declared_type=declared,
                    rows=rows,
                    storage=_storage(db, table, column),
                    state="documented" if documented else "undocumented",
                )
            )
    for table, columns in DOCUMENTED_TABLES.items():
        for documented in columns:
            if (table, documented.name) not in seen:
                found.append(
                    InventoryRow(
                        table=table,
                        column=documented.name,
                        data_class=documented.data_class,
                        declared_type="",
                        rows=0,
                        storage=(),
                        state="missing",
                    )
                )
    return tuple(found)


def _internal(name: str) -> bool:
    return name.startswith("sqlite_")


def check_inventory(
    data: RelayData, rows: Sequence[InventoryRow], logs: Sequence[Path] = ()
) -> CheckResult:
    evidence = Evidence(CHECK)
    _check_schema(data.db, rows, evidence)
    _check_files(data.files, evidence)
    if logs:
        _check_logs(logs, evidence)
    else:
        evidence.fact("log files checked", 0)
    return evidence.result("the relay stores exactly the documented tables, columns and files")


def _check_schema(db: sqlite3.Connection, rows: Sequence[InventoryRow], evidence: Evidence) -> None:
    try:
        version = db.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    except sqlite3.Error:
        version = None
    evidence.fact("schema version", "none" if version is None else version)
    tables = {row.table for row in rows if row.state != "missing"}
    evidence.fact("tables", len(tables))
    evidence.fact("columns", sum(1 for row in rows if row.state != "missing"))
    for table in sorted(tables - set(DOCUMENTED_TABLES)):
        evidence.fail(f"table {table}", "the table is not in docs/zero-knowledge.md")
    for row in rows:
        if row.state == "undocumented" and row.table in DOCUMENTED_TABLES:
            evidence.fail(
                f"column {row.table}.{row.column}",
                f"an undocumented column ({row.declared_type or 'no type'}, {row.rows} rows)",
            )
        elif row.state == "missing":
            evidence.fail(
                f"column {row.table}.{row.column}",
                "documented but not in this database (another schema version?)",
            )
    for kind, name, table, _ in _objects(db):
        if kind in {"view", "trigger"}:
            evidence.fail(f"{kind} {name}", f"a {kind} on {table} is not documented")
        elif kind == "table" and _internal(name):
            if name in SQLITE_INTERNAL:
                evidence.note(f"table {name}", "SQLite's own bookkeeping (counters, statistics)")
            else:
                evidence.fail(f"table {name}", "an unexpected SQLite internal table")
        elif kind == "index":
            evidence.count("indexes")


def _check_files(files: Iterable[RelayFile], evidence: Evidence) -> None:
    count = 0
    for file in files:
        count += 1
        if file.name not in DOCUMENTED_FILES:
            evidence.fail(f"file {file.name}", f"an undocumented file ({file.size} bytes)")
        elif not file.regular:
            evidence.fail(f"file {file.name}", "not a regular file (a link or a device)")
        elif file.name == IDENTITY_KEY_FILE and file.mode & ~OWNER_ONLY_MODE & 0o777:
            evidence.fail(
                f"file {file.name}",
                f"the relay's private key is readable by others (mode {file.mode:04o})",
            )
    evidence.fact("files in the data directory", count)


def _check_logs(logs: Sequence[Path], evidence: Evidence) -> None:
    records = 0
    loggers: set[str] = set()
    for path in _log_files(logs, evidence):
        current: str | None = None
        with path.open("rb") as stream:
            for number, raw in enumerate(stream, start=1):
                line = raw.decode("utf-8", "replace")
                match = _RECORD.match(line)
                if match is None:
                    if current is None and line.strip():
                        evidence.fail(
                            f"log {path.name}:{number}",
                            "a line that is not a record of the relay's log format",
                        )
                    continue
                current = match.group(1)
                records += 1
                loggers.add(current)
                if current not in DOCUMENTED_LOGGERS:
                    evidence.fail(
                        f"log {path.name}:{number}", f"logger {current!r} is not documented"
                    )
    evidence.fact("log records checked", records)
    evidence.fact("loggers seen", ", ".join(sorted(loggers)) or "none")


def _log_files(logs: Sequence[Path], evidence: Evidence) -> list[Path]:
    files: list[Path] = []
    for path in logs:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            evidence.fail(f"log {path}", "the log file given does not exist")
    evidence.fact("log files checked", len(files))
    return files
