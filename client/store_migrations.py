"""Numbered schema migrations of the client's local database; ``schema_version`` records the
version reached.

Each migration runs in one transaction together with its version row, so a crash leaves
the schema at one version or the next. Migrations are append-only: a released one is never
edited. Columns marked *sealed* hold :mod:`client.sealed_fields` values bound to
(table, column, row key); everything else is stored in the clear and is listed in
:mod:`client.store` as what a thief of the locked disk can read.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        -- name 'key_check': a sealed constant, so a wrong storage key fails at open
        CREATE TABLE meta (
            name  TEXT PRIMARY KEY,
            value BLOB NOT NULL
        ) WITHOUT ROWID;

        -- one row per case (MLS group); row key: group_id
        CREATE TABLE groups (
            group_id   BLOB PRIMARY KEY,
            state      BLOB NOT NULL,                          -- sealed Group.to_bytes()
            cursor     INTEGER NOT NULL CHECK (cursor >= 0),   -- relay sequence processed
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        -- row key: (group_id, note_id); position is the local arrival order
        CREATE TABLE notes (
            position  INTEGER PRIMARY KEY,
            group_id  BLOB NOT NULL,
            note_id   BLOB NOT NULL,
            seq       INTEGER CHECK (seq IS NULL OR seq >= 0), -- relay sequence, once known
            body      BLOB NOT NULL,                           -- sealed
            stored_at INTEGER NOT NULL,
            UNIQUE (group_id, note_id)
        );
        CREATE INDEX notes_by_group ON notes (group_id, seq, position);

        -- row key: client_message_id; position is the order entries were queued in
        CREATE TABLE outbox (
            position          INTEGER PRIMARY KEY,
            client_message_id TEXT NOT NULL UNIQUE,
            group_id          BLOB NOT NULL,
            state             TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'acked')),
            payload           BLOB NOT NULL,                   -- sealed
            seq               INTEGER CHECK (seq IS NULL OR seq >= 0),
            created_at        INTEGER NOT NULL,
            updated_at        INTEGER NOT NULL,
            CHECK ((state = 'acked') = (seq IS NOT NULL))
        );
        CREATE INDEX outbox_by_state ON outbox (state, position);

        -- rejections, by stable error code; never secrets, never free text
        CREATE TABLE security_events (
            event_id  INTEGER PRIMARY KEY,
            code      TEXT NOT NULL,
            group_id  BLOB,
            device_id BLOB,
            seq       INTEGER,
            at        INTEGER NOT NULL
        );

        -- every signed tree head accepted from the relay; two of one size are fork evidence
        CREATE TABLE tree_heads (
            tree_size INTEGER NOT NULL CHECK (tree_size >= 0),
            root_hash BLOB NOT NULL,
            signed    BLOB NOT NULL,                           -- SignedTreeHead as received
            seen_at   INTEGER NOT NULL,
            PRIMARY KEY (tree_size, root_hash)
        ) WITHOUT ROWID;

        -- row key: reference (the KeyPackageRef)
        CREATE TABLE key_package_secrets (
            reference   BLOB PRIMARY KEY,
            secret      BLOB NOT NULL,                         -- sealed
            last_resort INTEGER NOT NULL CHECK (last_resort IN (0, 1)),
            created_at  INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
)

SCHEMA_VERSION = MIGRATIONS[-1][0]
