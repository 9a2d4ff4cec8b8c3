"""Numbered schema migrations of the SQLite store; ``schema_version`` records the applied one.

Each migration runs in its own transaction together with the version bump, so a crash
leaves the schema at one version or the next. Migrations are append-only: a released one is
never edited. Every column is described in docs/zero-knowledge.md; payload columns are
BLOBs holding the client's bytes as received (never base64 text).
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE devices (
            device_id        BLOB PRIMARY KEY,
            member_id        BLOB NOT NULL,
            cipher_suite     INTEGER NOT NULL,
            signature_key    BLOB NOT NULL,
            not_before       INTEGER NOT NULL,
            not_after        INTEGER NOT NULL,
            credential       BLOB NOT NULL,
            log_index        INTEGER NOT NULL,
            revoked_at       INTEGER,
            revocation_index INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX devices_by_member ON devices (member_id);

        CREATE TABLE log_entries (
            log_index   INTEGER PRIMARY KEY,
            leaf        BLOB NOT NULL,
            appended_at INTEGER NOT NULL
        );

        CREATE TABLE key_packages (
            package_id  INTEGER PRIMARY KEY,
            device_id   BLOB NOT NULL,
            package     BLOB NOT NULL,
            last_resort INTEGER NOT NULL CHECK (last_resort IN (0, 1))
        );
        CREATE INDEX key_packages_by_device ON key_packages (device_id, last_resort);

        CREATE TABLE sessions (
            token_hash BLOB PRIMARY KEY,
            device_id  BLOB NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX sessions_by_device ON sessions (device_id);

        CREATE TABLE groups (
            group_id   BLOB PRIMARY KEY,
            epoch      INTEGER NOT NULL,
            last_seq   INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE roster (
            group_id  BLOB NOT NULL,
            device_id BLOB NOT NULL,
            until_seq INTEGER,
            PRIMARY KEY (group_id, device_id)
        ) WITHOUT ROWID;
        CREATE INDEX roster_by_device ON roster (device_id);

        CREATE TABLE messages (
            group_id    BLOB NOT NULL,
            seq         INTEGER NOT NULL,
            payload     BLOB NOT NULL,
            received_at INTEGER NOT NULL,
            PRIMARY KEY (group_id, seq)
        );

        CREATE TABLE sends (
            idempotency_key BLOB PRIMARY KEY,
            group_id        BLOB NOT NULL,
            seq             INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE welcomes (
            welcome_id  INTEGER PRIMARY KEY,
            group_id    BLOB NOT NULL,
            payload     BLOB NOT NULL,
            received_at INTEGER NOT NULL
        );

        CREATE TABLE inbox (
            item_id    INTEGER PRIMARY KEY,
            device_id  BLOB NOT NULL,
            welcome_id INTEGER NOT NULL REFERENCES welcomes (welcome_id)
        );
        CREATE INDEX inbox_by_device ON inbox (device_id, item_id);

        CREATE TABLE blobs (
            blob_id    BLOB PRIMARY KEY,
            group_id   BLOB NOT NULL,
            owner      BLOB NOT NULL,
            size       INTEGER NOT NULL,
            received   INTEGER NOT NULL,
            complete   INTEGER NOT NULL CHECK (complete IN (0, 1)),
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX blobs_by_owner ON blobs (owner);

        CREATE TABLE blob_chunks (
            blob_id BLOB NOT NULL,
            offset  INTEGER NOT NULL,
            data    BLOB NOT NULL,
            PRIMARY KEY (blob_id, offset)
        );
        """,
    ),
    (
        2,
        """
        CREATE TABLE enrolments (
            invite_id   BLOB PRIMARY KEY,
            device_id   BLOB NOT NULL,
            request     BLOB NOT NULL,
            status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
            received_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX enrolments_by_device ON enrolments (device_id);
        CREATE INDEX enrolments_by_status ON enrolments (status, received_at);

        ALTER TABLE roster ADD COLUMN leaf_index INTEGER;
        """,
    ),
)

LATEST_VERSION = MIGRATIONS[-1][0]
