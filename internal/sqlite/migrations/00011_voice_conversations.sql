-- +goose Up
-- What the voice platform (ElevenLabs agents) sends back after a call, by
-- its post-call webhooks, kept against the session the call belonged to.
--
-- conversation_id is the platform's id of one call. It is unique: a
-- redelivered webhook finds its row and stores nothing twice. A session
-- may hold more than one (a student whose connection dropped and who
-- reconnected), each once.
-- transcript, analysis and metadata are the platform's JSON, as sent
-- (transcript an array of turns; analysis its evaluation and summary);
-- transcript_at says when the post_call_transcription webhook was stored.
-- audio_at says when the post_call_audio webhook's recording was stored
-- as the session's recording (sessions.audio_name); audio_name is that
-- file's name, so a later webhook can tell the platform's recording from
-- one the browser uploaded.
CREATE TABLE voice_conversations (
    id              INTEGER PRIMARY KEY,
    session_id      INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    conversation_id TEXT    NOT NULL UNIQUE CHECK (length(conversation_id) BETWEEN 1 AND 200),
    agent_id        TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL DEFAULT '',
    transcript      TEXT    CHECK (transcript IS NULL OR json_valid(transcript)),
    analysis        TEXT    CHECK (analysis IS NULL OR json_valid(analysis)),
    metadata        TEXT    CHECK (metadata IS NULL OR json_valid(metadata)),
    transcript_at   TEXT,
    audio_name      TEXT,
    audio_at        TEXT,
    created_at      TEXT    NOT NULL,
    CHECK ((transcript IS NULL) = (transcript_at IS NULL)),
    CHECK ((audio_name IS NULL) = (audio_at IS NULL))
) STRICT;

CREATE INDEX voice_conversations_session ON voice_conversations (session_id);

-- +goose Down
DROP TABLE voice_conversations;
