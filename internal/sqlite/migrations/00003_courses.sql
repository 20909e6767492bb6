-- +goose Up
-- Courses, their numbered weeks, who teaches them and who studies them.
-- Codes compare case-insensitively ("law 101" and "LAW 101" are one course).
-- join_code is random and unguessable (see course/joincode.go); it is unique
-- so that a code names exactly one course.
CREATE TABLE courses (
    id             INTEGER PRIMARY KEY,
    code           TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    professor_name TEXT    NOT NULL DEFAULT '',
    join_code      TEXT    NOT NULL UNIQUE,
    created_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
) STRICT;

CREATE TABLE course_instructors (
    course_id INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at  TEXT    NOT NULL,
    PRIMARY KEY (course_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX course_instructors_user ON course_instructors (user_id, course_id);

CREATE TABLE enrollments (
    course_id   INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    enrolled_at TEXT    NOT NULL,
    PRIMARY KEY (course_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX enrollments_user ON enrollments (user_id, course_id);

CREATE TABLE weeks (
    id          INTEGER PRIMARY KEY,
    course_id   INTEGER NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    week_number INTEGER NOT NULL CHECK (week_number BETWEEN 1 AND 52),
    title       TEXT    NOT NULL DEFAULT '',
    themes      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(themes) AND json_type(themes) = 'array'),
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    UNIQUE (course_id, week_number)
) STRICT;

-- Documents belong to a week and go when it goes; their chunks (added with
-- ingestion) hang off documents with ON DELETE CASCADE in turn, so deleting a
-- course or a week removes every row below it in the one statement. Files
-- live under DATA_DIR/uploads by content hash (sha256) and may be shared by
-- several documents: a file is removed once no document names its hash.
-- Tutoring sessions must NOT cascade from here: transcripts outlive the
-- course or week they were about.
CREATE TABLE documents (
    id                INTEGER PRIMARY KEY,
    week_id           INTEGER NOT NULL REFERENCES weeks (id) ON DELETE CASCADE,
    original_filename TEXT    NOT NULL,
    sha256            TEXT    NOT NULL CHECK (length(sha256) = 64),
    file_size         INTEGER NOT NULL CHECK (file_size >= 0),
    page_count        INTEGER,
    status            TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'processed', 'failed')),
    error             TEXT    NOT NULL DEFAULT '',
    chunk_count       INTEGER NOT NULL DEFAULT 0,
    uploaded_by       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    uploaded_at       TEXT    NOT NULL,
    processed_at      TEXT,
    UNIQUE (week_id, sha256)
) STRICT;

CREATE INDEX documents_sha256 ON documents (sha256);

-- +goose Down
DROP TABLE documents;
DROP TABLE weeks;
DROP TABLE enrollments;
DROP TABLE course_instructors;
DROP TABLE courses;
