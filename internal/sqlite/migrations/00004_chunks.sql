-- +goose Up
-- Ingestion: progress on documents, and the passages (chunks) cut from their
-- text with an FTS5 index (BM25) kept in step by triggers, so no code path
-- can insert or delete a chunk and forget the index. Chunks carry week_id
-- (a document never moves between weeks) so that searches are scoped to a
-- week inside the query itself.
ALTER TABLE documents ADD COLUMN pages_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX documents_status ON documents (status);

CREATE TABLE chunks (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    week_id     INTEGER NOT NULL REFERENCES weeks (id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    page        INTEGER NOT NULL CHECK (page >= 1),
    char_start  INTEGER NOT NULL,
    char_end    INTEGER NOT NULL,
    content     TEXT    NOT NULL,
    token_count INTEGER NOT NULL,
    UNIQUE (document_id, chunk_index)
) STRICT;

CREATE INDEX chunks_week ON chunks (week_id);

-- External-content FTS5: the text lives once, in chunks. porter stemming
-- lets "negligent" find "negligence"; remove_diacritics folds accents.
CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    content,
    content = 'chunks',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- +goose StatementBegin
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, content) VALUES (new.id, new.content);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER chunks_au AFTER UPDATE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO chunks_fts (rowid, content) VALUES (new.id, new.content);
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE chunks_fts;
DROP TABLE chunks;
DROP INDEX documents_status;
ALTER TABLE documents DROP COLUMN attempts;
ALTER TABLE documents DROP COLUMN pages_done;
