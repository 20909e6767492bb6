-- +goose Up
-- Tutoring sessions and their transcripts.
--
-- Sessions outlive the course and week they were about (API.md: deleting a
-- course keeps sessions and transcripts), so course_id and week_id are
-- plain numbers, not foreign keys, and the session keeps a copy of what it
-- needs to be read without them (course code and name, week number and
-- title). A deleted course's sessions stay visible to their student and to
-- admins.
--
-- counted: whether the session counts against its student's weekly quota
-- (professors' and admins' sessions do not). The quota is counted over
-- started_at, with the index below.
CREATE TABLE sessions (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users (id),
    course_id        INTEGER NOT NULL,
    week_id          INTEGER NOT NULL,
    -- SQLite may give a deleted course's or week's id to a new one; its
    -- creation time tells the two apart, so a new course's instructors
    -- never see an old course's sessions.
    course_created_at TEXT   NOT NULL,
    week_created_at  TEXT    NOT NULL,
    course_code      TEXT    NOT NULL DEFAULT '',
    course_name      TEXT    NOT NULL DEFAULT '',
    week_number      INTEGER NOT NULL,
    week_title       TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
    counted          INTEGER NOT NULL CHECK (counted IN (0, 1)),
    theme            TEXT    NOT NULL DEFAULT '',
    voice_id         TEXT    NOT NULL DEFAULT '',
    started_at       TEXT    NOT NULL,
    expires_at       TEXT    NOT NULL,
    ended_at         TEXT,
    end_reason       TEXT    CHECK (end_reason IN ('client', 'expired', 'replaced', 'swept', 'moderation')),
    duration_seconds INTEGER CHECK (duration_seconds >= 0),
    moderated_count  INTEGER NOT NULL DEFAULT 0 CHECK (moderated_count >= 0),
    moderation_flags TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(moderation_flags)),
    audio_name       TEXT    UNIQUE,
    audio_type       TEXT,
    audio_size       INTEGER,
    CHECK ((status = 'active') = (ended_at IS NULL)),
    CHECK ((audio_name IS NULL) = (audio_type IS NULL))
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id, started_at);
CREATE INDEX sessions_course ON sessions (course_id, started_at);
CREATE INDEX sessions_active ON sessions (expires_at) WHERE status = 'active';
-- One active session per student: a new start ends the previous one in the
-- same transaction, and this makes any other path fail loudly.
CREATE UNIQUE INDEX sessions_one_active ON sessions (user_id) WHERE status = 'active';

-- A turn is one message of the transcript, in id order.
-- A student's turn is 'pending' from the moment it is stored (before the
-- model is called) until its answer is stored ('answered') or the attempt
-- fails or is cancelled ('unanswered'); assistant turns are 'done'.
-- reply_to links an answer to the student's turn it answers, at most one.
-- client_msg_id makes a retried message return the stored answer.
CREATE TABLE turns (
    id                 INTEGER PRIMARY KEY,
    session_id         INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    role               TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    content            TEXT    NOT NULL,
    at                 TEXT    NOT NULL,
    state              TEXT    NOT NULL CHECK (state IN ('pending', 'answered', 'unanswered', 'done')),
    client_msg_id      TEXT,
    reply_to           INTEGER UNIQUE REFERENCES turns (id),
    sources            TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(sources)),
    moderated          INTEGER NOT NULL DEFAULT 0 CHECK (moderated IN (0, 1)),
    moderation         TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(moderation)),
    provider           TEXT    NOT NULL DEFAULT '',
    input_tokens       INTEGER NOT NULL DEFAULT 0,
    output_tokens      INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    latency_ms         INTEGER,
    CHECK ((role = 'assistant') = (state = 'done')),
    CHECK (reply_to IS NULL OR role = 'assistant')
) STRICT;

CREATE INDEX turns_session ON turns (session_id, id);
CREATE UNIQUE INDEX turns_client_msg ON turns (session_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
CREATE INDEX turns_pending ON turns (session_id) WHERE state = 'pending';

-- +goose Down
DROP TABLE turns;
DROP TABLE sessions;
