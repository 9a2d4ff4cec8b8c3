"""``casecircle audit export``: a consistent, read-only snapshot of a relay for an auditor.

Run by the operator on the relay's machine, while the relay runs or not. The export is a
directory holding

    relay.sqlite3        a copy made with SQLite's online backup (one consistent
                         snapshot, even while the relay writes), as one file
    relay-identity.pub   the relay's identity public key, hex — never the private seed

so an external auditor gets everything the audit needs and no secret. The source database
is opened read-only: while the relay runs, as one more reader of its write-ahead log (SQLite
takes a reader's lock in the ``-shm`` index, as the relay's own reader does); when it is
stopped, as an immutable file, touching nothing.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from urllib.request import pathname2url

from client.audit.documented import DATABASE_FILE, IDENTITY_PUBLIC_FILE
from client.audit.errors import AuditInputError, RelayDataError
from client.audit.relay_data import relay_public_key


def _source(database: Path) -> sqlite3.Connection:
    live = database.with_name(f"{DATABASE_FILE}-wal").exists()
    mode = "mode=ro" if live else "mode=ro&immutable=1"
    return sqlite3.connect(f"file:{pathname2url(str(database))}?{mode}", uri=True)


def export_relay_data(data_dir: Path, out: Path) -> Path:
    """Write an audit export of ``data_dir`` into the new directory ``out``."""
    database = data_dir / DATABASE_FILE
    if not database.is_file():
        raise AuditInputError(f"{data_dir} holds no {DATABASE_FILE}: not a relay data directory")
    key, problem = relay_public_key(data_dir)
    if key is None:
        raise AuditInputError(problem or "no relay identity")
    try:
        out.mkdir(mode=0o700)
    except OSError as exc:
        raise AuditInputError(f"{out} cannot be created anew: {exc.strerror}") from exc
    try:
        with (
            contextlib.closing(_source(database)) as source,
            contextlib.closing(sqlite3.connect(out / DATABASE_FILE)) as target,
        ):
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise RelayDataError(f"the relay database could not be exported: {exc}") from exc
    (out / IDENTITY_PUBLIC_FILE).write_text(key.hex() + "\n", encoding="ascii")
    return out
