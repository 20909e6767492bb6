-- +goose Up
-- Tutoring sessions and their transcripts: the twin of
-- migrations/00006_sessions.sql (whose comments say what each column is).
-- counted and moderated are boolean here, 0/1 integers on SQLite: the code
-- writes Go bools and the literals TRUE and FALSE, which both engines read.
-- JSON columns are text, checked to parse.
CREATE TABLE sessions (
    id                bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id           bigint  NOT NULL REFERENCES users (id),
    course_id         bigint  NOT NULL,
    week_id           bigint  NOT NULL,
    course_created_at text    NOT NULL,
    week_created_at   text    NOT NULL,
    course_code       text    NOT NULL DEFAULT '',
    course_name       text    NOT NULL DEFAULT '',
    week_number       bigint  NOT NULL,
    week_title        text    NOT NULL DEFAULT '',
    status            text    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
    counted           boolean NOT NULL,
    theme             text    NOT NULL DEFAULT '',
    voice_id          text    NOT NULL DEFAULT '',
    started_at        text    NOT NULL,
    expires_at        text    NOT NULL,
    ended_at          text,
    end_reason        text    CHECK (end_reason IN ('client', 'expired', 'replaced', 'swept', 'moderation')),
    duration_seconds  bigint  CHECK (duration_seconds >= 0),
    moderated_count   bigint  NOT NULL DEFAULT 0 CHECK (moderated_count >= 0),
    moderation_flags  text    NOT NULL DEFAULT '[]' CHECK (moderation_flags::jsonb IS NOT NULL),
    audio_name        text    UNIQUE,
    audio_type        text,
    audio_size        bigint,
    CHECK ((status = 'active') = (ended_at IS NULL)),
    CHECK ((audio_name IS NULL) = (audio_type IS NULL))
);

CREATE INDEX sessions_user ON sessions (user_id, started_at);
CREATE INDEX sessions_course ON sessions (course_id, started_at);
CREATE INDEX sessions_active ON sessions (expires_at) WHERE status = 'active';
CREATE UNIQUE INDEX sessions_one_active ON sessions (user_id) WHERE status = 'active';

CREATE TABLE turns (
    id                 bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id         bigint  NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    role               text    NOT NULL CHECK (role IN ('user', 'assistant')),
    content            text    NOT NULL,
    at                 text    NOT NULL,
    state              text    NOT NULL CHECK (state IN ('pending', 'answered', 'unanswered', 'done')),
    client_msg_id      text,
    reply_to           bigint  UNIQUE REFERENCES turns (id),
    sources            text    NOT NULL DEFAULT '[]' CHECK (sources::jsonb IS NOT NULL),
    moderated          boolean NOT NULL DEFAULT FALSE,
    moderation         text    NOT NULL DEFAULT '[]' CHECK (moderation::jsonb IS NOT NULL),
    provider           text    NOT NULL DEFAULT '',
    input_tokens       bigint  NOT NULL DEFAULT 0,
    output_tokens      bigint  NOT NULL DEFAULT 0,
    cache_read_tokens  bigint  NOT NULL DEFAULT 0,
    cache_write_tokens bigint  NOT NULL DEFAULT 0,
    latency_ms         bigint,
    CHECK ((role = 'assistant') = (state = 'done')),
    CHECK (reply_to IS NULL OR role = 'assistant')
);

CREATE INDEX turns_session ON turns (session_id, id);
CREATE UNIQUE INDEX turns_client_msg ON turns (session_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
CREATE INDEX turns_pending ON turns (session_id) WHERE state = 'pending';

-- +goose Down
DROP TABLE turns;
DROP TABLE sessions;
