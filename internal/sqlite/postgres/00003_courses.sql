-- +goose Up
-- Courses, their weeks, instructors, enrolments and documents: the twin of
-- migrations/00003_courses.sql. code is citext (SQLite: COLLATE NOCASE);
-- themes is JSON kept as text, checked to be an array.
CREATE TABLE courses (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           citext NOT NULL UNIQUE,
    name           text   NOT NULL,
    description    text   NOT NULL DEFAULT '',
    professor_name text   NOT NULL DEFAULT '',
    join_code      text   NOT NULL UNIQUE,
    created_by     bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at     text   NOT NULL,
    updated_at     text   NOT NULL
);

CREATE TABLE course_instructors (
    course_id bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at  text   NOT NULL,
    PRIMARY KEY (course_id, user_id)
);

CREATE INDEX course_instructors_user ON course_instructors (user_id, course_id);

CREATE TABLE enrollments (
    course_id   bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    enrolled_at text   NOT NULL,
    PRIMARY KEY (course_id, user_id)
);

CREATE INDEX enrollments_user ON enrollments (user_id, course_id);

CREATE TABLE weeks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    course_id   bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    week_number bigint NOT NULL CHECK (week_number BETWEEN 1 AND 52),
    title       text   NOT NULL DEFAULT '',
    themes      text   NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(themes::jsonb) = 'array'),
    created_at  text   NOT NULL,
    updated_at  text   NOT NULL,
    UNIQUE (course_id, week_number)
);

CREATE TABLE documents (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    week_id           bigint NOT NULL REFERENCES weeks (id) ON DELETE CASCADE,
    original_filename text   NOT NULL,
    sha256            text   NOT NULL CHECK (length(sha256) = 64),
    file_size         bigint NOT NULL CHECK (file_size >= 0),
    page_count        bigint,
    status            text   NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'processed', 'failed')),
    error             text   NOT NULL DEFAULT '',
    chunk_count       bigint NOT NULL DEFAULT 0,
    uploaded_by       bigint REFERENCES users (id) ON DELETE SET NULL,
    uploaded_at       text   NOT NULL,
    processed_at      text,
    UNIQUE (week_id, sha256)
);

CREATE INDEX documents_sha256 ON documents (sha256);

-- +goose Down
DROP TABLE documents;
DROP TABLE weeks;
DROP TABLE enrollments;
DROP TABLE course_instructors;
DROP TABLE courses;
