-- +goose NO TRANSACTION
-- +goose Up
-- Erasing an account (DELETE /api/admin/users/{id}).
--
-- 1. A user id is never handed out twice. Without AUTOINCREMENT SQLite
--    gives a new row max(id)+1, so deleting the newest account and then
--    registering one would give the newcomer the erased person's id: their
--    unexpired tokens (id + token version 0) would sign in as the newcomer,
--    and the audit log's old entries would read as the newcomer's. SQLite
--    adds AUTOINCREMENT only by rebuilding the table, which needs foreign
--    keys off (dropping the old table would otherwise cascade into every
--    table that references it), and that pragma cannot change inside a
--    transaction: hence NO TRANSACTION and the explicit BEGIN/COMMIT.
--    goose runs a file's statements on one connection, so the pragma holds
--    for all of them.
-- 2. The audit log stays append-only except for erasure: an entry's
--    address may be blanked and its detail emptied, nothing else changed.
PRAGMA foreign_keys = OFF;

BEGIN IMMEDIATE;

CREATE TABLE users_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    username      TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    full_name     TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('student', 'professor', 'admin')),
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    token_version INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
) STRICT;

INSERT INTO users_new (id, email, username, full_name, password_hash, role, is_active, token_version, created_at, updated_at)
    SELECT id, email, username, full_name, password_hash, role, is_active, token_version, created_at, updated_at FROM users;

DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_role ON users (role);

DROP TRIGGER audit_log_no_update;

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (new.id IS old.id AND new.at IS old.at AND new.actor_id IS old.actor_id
      AND new.action IS old.action AND new.target_type IS old.target_type AND new.target_id IS old.target_id
      AND (new.ip IS old.ip OR new.ip = '') AND (new.detail IS old.detail OR new.detail = '{}'))
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: only erasing an address or a detail is allowed');
END;
-- +goose StatementEnd

COMMIT;

PRAGMA foreign_keys = ON;

-- +goose Down
PRAGMA foreign_keys = OFF;

BEGIN IMMEDIATE;

CREATE TABLE users_old (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    username      TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    full_name     TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('student', 'professor', 'admin')),
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    token_version INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
) STRICT;

INSERT INTO users_old (id, email, username, full_name, password_hash, role, is_active, token_version, created_at, updated_at)
    SELECT id, email, username, full_name, password_hash, role, is_active, token_version, created_at, updated_at FROM users;

DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
CREATE INDEX users_role ON users (role);

DROP TRIGGER audit_log_no_update;

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

COMMIT;

PRAGMA foreign_keys = ON;
