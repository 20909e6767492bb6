-- +goose Up
-- PostgreSQL's twin of migrations/00001_users.sql (TestSchemasAgree keeps
-- the two alike). Times are text in sqlite.FormatTime's fixed layout, as
-- on SQLite, so the Go code reads and compares them the same way on both.
-- citext: email and username compare case-insensitively, as SQLite's
-- COLLATE NOCASE (citext is a trusted extension: the database's owner may
-- create it).
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE users (
    id            bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         citext  NOT NULL UNIQUE,
    username      citext  NOT NULL UNIQUE,
    full_name     text    NOT NULL DEFAULT '',
    password_hash text    NOT NULL,
    role          text    NOT NULL CHECK (role IN ('student', 'professor', 'admin')),
    is_active     boolean NOT NULL DEFAULT TRUE,
    token_version bigint  NOT NULL DEFAULT 0,
    created_at    text    NOT NULL,
    updated_at    text    NOT NULL
);

CREATE INDEX users_role ON users (role);

-- +goose Down
DROP TABLE users;
