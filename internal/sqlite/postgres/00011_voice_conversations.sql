-- +goose Up
-- The twin of migrations/00011_voice_conversations.sql: what the voice
-- platform sends back after a call. The JSON columns are text, checked to
-- parse.
CREATE TABLE voice_conversations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id      bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    conversation_id text   NOT NULL UNIQUE CHECK (length(conversation_id) BETWEEN 1 AND 200),
    agent_id        text   NOT NULL DEFAULT '',
    status          text   NOT NULL DEFAULT '',
    transcript      text   CHECK (transcript IS NULL OR transcript::jsonb IS NOT NULL),
    analysis        text   CHECK (analysis IS NULL OR analysis::jsonb IS NOT NULL),
    metadata        text   CHECK (metadata IS NULL OR metadata::jsonb IS NOT NULL),
    transcript_at   text,
    audio_name      text,
    audio_at        text,
    created_at      text   NOT NULL,
    CHECK ((transcript IS NULL) = (transcript_at IS NULL)),
    CHECK ((audio_name IS NULL) = (audio_at IS NULL))
);

CREATE INDEX voice_conversations_session ON voice_conversations (session_id);

-- +goose Down
DROP TABLE voice_conversations;
