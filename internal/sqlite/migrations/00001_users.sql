-- +goose Up
-- Email and username compare case-insensitively (emails are stored lower-case
-- and usernames are ASCII, so NOCASE is exact). token_version is bumped by
-- logout, password change, deactivation and role change: every token carries
-- the version it was issued under and dies when the version moves on.
CREATE TABLE users (
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

CREATE INDEX users_role ON users (role);

-- +goose Down
DROP TABLE users;
