-- +goose Up
-- Ingestion's progress and the passages: the twin of
-- migrations/00004_chunks.sql without its FTS5 index, which SQLite's 00005
-- drops again (searches run on an in-memory index; see 00005).
ALTER TABLE documents ADD COLUMN pages_done bigint NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN attempts bigint NOT NULL DEFAULT 0;
CREATE INDEX documents_status ON documents (status);

CREATE TABLE chunks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    week_id     bigint NOT NULL REFERENCES weeks (id) ON DELETE CASCADE,
    chunk_index bigint NOT NULL,
    page        bigint NOT NULL CHECK (page >= 1),
    char_start  bigint NOT NULL,
    char_end    bigint NOT NULL,
    content     text   NOT NULL,
    token_count bigint NOT NULL,
    UNIQUE (document_id, chunk_index)
);

CREATE INDEX chunks_week ON chunks (week_id);

-- +goose Down
DROP TABLE chunks;
DROP INDEX documents_status;
ALTER TABLE documents DROP COLUMN attempts;
ALTER TABLE documents DROP COLUMN pages_done;
