-- +goose Up
-- Retrieval, part two.
--
-- 1. The FTS5 index also indexes each chunk's week_id, so a search names its
--    week inside the MATCH itself ("week_id : 12 AND (…)"): FTS5 intersects
--    the week's short doclist with the words' instead of ranking every
--    week's matches and dropping the others, so other weeks' chunks cost a
--    search almost nothing.
-- 2. chunk_vectors: one embedding per chunk, float32 little-endian, with the
--    model that made it. A search uses only the current model's vectors;
--    re-embedding after a model change replaces them row by row.
-- 3. week_vector_versions: a version per week, bumped (from one global
--    counter, so a number is never reused, even by a week id SQLite
--    reuses) by triggers on every vector written or deleted, cascades
--    included. In-memory copies of a week's vectors compare it to know
--    they are stale.
DROP TRIGGER chunks_ai;
DROP TRIGGER chunks_ad;
DROP TRIGGER chunks_au;
DROP TABLE chunks_fts;
CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    content,
    week_id,
    content = 'chunks',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- +goose StatementBegin
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, content, week_id) VALUES (new.id, new.content, new.week_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, content, week_id) VALUES ('delete', old.id, old.content, old.week_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER chunks_au AFTER UPDATE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, content, week_id) VALUES ('delete', old.id, old.content, old.week_id);
    INSERT INTO chunks_fts (rowid, content, week_id) VALUES (new.id, new.content, new.week_id);
END;
-- +goose StatementEnd

INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild');

CREATE TABLE chunk_vectors (
    chunk_id INTEGER PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
    week_id  INTEGER NOT NULL,
    model    TEXT    NOT NULL,
    dim      INTEGER NOT NULL CHECK (dim > 0),
    vec      BLOB    NOT NULL CHECK (length(vec) = 4 * dim)
) STRICT;

CREATE INDEX chunk_vectors_week ON chunk_vectors (week_id, model);

CREATE TABLE vector_clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
) STRICT;
INSERT INTO vector_clock (id, n) VALUES (1, 0);

CREATE TABLE week_vector_versions (
    week_id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
) STRICT;

-- +goose StatementBegin
CREATE TRIGGER chunk_vectors_ai AFTER INSERT ON chunk_vectors BEGIN
    UPDATE vector_clock SET n = n + 1 WHERE id = 1;
    INSERT INTO week_vector_versions (week_id, version) VALUES (new.week_id, (SELECT n FROM vector_clock WHERE id = 1))
        ON CONFLICT (week_id) DO UPDATE SET version = excluded.version;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER chunk_vectors_ad AFTER DELETE ON chunk_vectors BEGIN
    UPDATE vector_clock SET n = n + 1 WHERE id = 1;
    INSERT INTO week_vector_versions (week_id, version) VALUES (old.week_id, (SELECT n FROM vector_clock WHERE id = 1))
        ON CONFLICT (week_id) DO UPDATE SET version = excluded.version;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER chunk_vectors_au AFTER UPDATE ON chunk_vectors BEGIN
    UPDATE vector_clock SET n = n + 1 WHERE id = 1;
    INSERT INTO week_vector_versions (week_id, version) VALUES (old.week_id, (SELECT n FROM vector_clock WHERE id = 1))
        ON CONFLICT (week_id) DO UPDATE SET version = excluded.version;
    INSERT INTO week_vector_versions (week_id, version) VALUES (new.week_id, (SELECT n FROM vector_clock WHERE id = 1))
        ON CONFLICT (week_id) DO UPDATE SET version = excluded.version;
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE week_vector_versions;
DROP TABLE vector_clock;
DROP TABLE chunk_vectors;
DROP TRIGGER chunks_ai;
DROP TRIGGER chunks_ad;
DROP TRIGGER chunks_au;
DROP TABLE chunks_fts;
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

INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild');
