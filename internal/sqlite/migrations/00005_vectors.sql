-- +goose Up
-- Retrieval, part two.
--
-- 1. Searches no longer use FTS5: each week is searched through an
--    in-memory BM25 index built from that week's rows alone (FTS5's
--    doclists span every week, so a search paid for other weeks' passages,
--    and its bm25() cost about 2.5 µs per matching row here: p99 21–26 ms
--    at 5,000 passages a week against a 5 ms target). The index and its
--    triggers go, and with them their cost at every insert.
-- 2. chunk_vectors: one embedding per chunk, float32 little-endian, with the
--    model that made it. A search uses only the current model's vectors;
--    re-embedding after a model change replaces them row by row.
-- 3. week_versions: two versions per week, bumped by triggers (cascades
--    included): passages, when its chunks or their documents' status
--    change; vectors, when its vectors do. Both come from one global
--    counter, so that a number is never reused, even by a week id SQLite
--    hands out again. In-memory copies of a week compare them to know they
--    are stale, and that only the vectors are when embedding is under way.
DROP TRIGGER chunks_ai;
DROP TRIGGER chunks_ad;
DROP TRIGGER chunks_au;
DROP TABLE chunks_fts;

CREATE TABLE chunk_vectors (
    chunk_id INTEGER PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
    week_id  INTEGER NOT NULL,
    model    TEXT    NOT NULL,
    dim      INTEGER NOT NULL CHECK (dim > 0),
    vec      BLOB    NOT NULL CHECK (length(vec) = 4 * dim)
) STRICT;

CREATE INDEX chunk_vectors_week ON chunk_vectors (week_id, model);
CREATE INDEX chunk_vectors_model ON chunk_vectors (model);

CREATE TABLE version_clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
) STRICT;
INSERT INTO version_clock (id, n) VALUES (1, 0);

CREATE TABLE week_versions (
    week_id  INTEGER PRIMARY KEY,
    passages INTEGER NOT NULL DEFAULT 0,
    vectors  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- +goose StatementBegin
CREATE TRIGGER chunks_version_ai AFTER INSERT ON chunks BEGIN
    UPDATE version_clock SET n = n + 1 WHERE id = 1;
    INSERT INTO week_versions (week_id, passages) VALUES (new.week_id, (SELECT n FROM version_clock WHERE id = 1))
        ON CONFLICT (week_id) DO UPDATE SET passages = excluded.passages;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER chunks_version_ad AFTER DELETE ON chunks BEGIN
    UPDATE version_clock SET n = n + 1 WHERE id = 1;
    INSERT INTO week_versions (week_id, passages) VALUES (old.week_id, (SELECT n FROM version_clock WHERE id = 1))
        ON CONFLICT (week_id) DO UPDATE SET passages = excluded.passages;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER chunks_version_au AFTER UPDATE ON chunks BEGIN
    UPDATE version_clock SET n = n + 1 WHERE id = 1;
    INSERT INTO week_versions (week_id, passages) VALUES (new.week_id, (SELECT n FROM version_clock WHERE id = 1))
        ON CONFLICT (week_id) DO UPDATE SET passages = excluded.passages;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER documents_version_au AFTER UPDATE OF status ON documents BEGIN
    UPDATE version_clock SET n = n + 1 WHERE id = 1;
    INSERT INTO week_versions (week_id, passages) VALUES (new.week_id, (SELECT n FROM version_clock WHERE id = 1))
        ON CONFLICT (week_id) DO UPDATE SET passages = excluded.passages;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER chunk_vectors_version_ai AFTER INSERT ON chunk_vectors BEGIN
    UPDATE version_clock SET n = n + 1 WHERE id = 1;
    INSERT INTO week_versions (week_id, vectors) VALUES (new.week_id, (SELECT n FROM version_clock WHERE id = 1))
        ON CONFLICT (week_id) DO UPDATE SET vectors = excluded.vectors;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER chunk_vectors_version_ad AFTER DELETE ON chunk_vectors BEGIN
    UPDATE version_clock SET n = n + 1 WHERE id = 1;
    INSERT INTO week_versions (week_id, vectors) VALUES (old.week_id, (SELECT n FROM version_clock WHERE id = 1))
        ON CONFLICT (week_id) DO UPDATE SET vectors = excluded.vectors;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER chunk_vectors_version_au AFTER UPDATE ON chunk_vectors BEGIN
    UPDATE version_clock SET n = n + 1 WHERE id = 1;
    INSERT INTO week_versions (week_id, vectors) VALUES (new.week_id, (SELECT n FROM version_clock WHERE id = 1))
        ON CONFLICT (week_id) DO UPDATE SET vectors = excluded.vectors;
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE week_versions;
DROP TABLE version_clock;
DROP TABLE chunk_vectors;
DROP TRIGGER chunks_version_ai;
DROP TRIGGER chunks_version_ad;
DROP TRIGGER chunks_version_au;
DROP TRIGGER documents_version_au;
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
