-- +goose Up
-- Retrieval, part two: the twin of migrations/00005_vectors.sql (whose
-- comment says why). chunk_vectors holds float32 little-endian embeddings
-- as bytea; week_versions' two counters are bumped by triggers from the one
-- global version_clock, as on SQLite. Every bump updates version_clock's
-- row, so writers of passages and vectors take turns on that row lock:
-- ingestion's writes, not a turn's.
CREATE TABLE chunk_vectors (
    chunk_id bigint PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
    week_id  bigint NOT NULL,
    model    text   NOT NULL,
    dim      bigint NOT NULL CHECK (dim > 0),
    vec      bytea  NOT NULL CHECK (length(vec) = 4 * dim)
);

CREATE INDEX chunk_vectors_week ON chunk_vectors (week_id, model);
CREATE INDEX chunk_vectors_model ON chunk_vectors (model);

CREATE TABLE version_clock (
    id bigint PRIMARY KEY CHECK (id = 1),
    n  bigint NOT NULL
);
INSERT INTO version_clock (id, n) VALUES (1, 0);

CREATE TABLE week_versions (
    week_id  bigint PRIMARY KEY,
    passages bigint NOT NULL DEFAULT 0,
    vectors  bigint NOT NULL DEFAULT 0
);

-- +goose StatementBegin
CREATE FUNCTION week_passages_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
    w bigint;
BEGIN
    UPDATE version_clock SET n = n + 1 WHERE id = 1 RETURNING n INTO v;
    IF TG_OP = 'DELETE' THEN w := OLD.week_id; ELSE w := NEW.week_id; END IF;
    INSERT INTO week_versions (week_id, passages) VALUES (w, v)
        ON CONFLICT (week_id) DO UPDATE SET passages = excluded.passages;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION week_vectors_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
    w bigint;
BEGIN
    UPDATE version_clock SET n = n + 1 WHERE id = 1 RETURNING n INTO v;
    IF TG_OP = 'DELETE' THEN w := OLD.week_id; ELSE w := NEW.week_id; END IF;
    INSERT INTO week_versions (week_id, vectors) VALUES (w, v)
        ON CONFLICT (week_id) DO UPDATE SET vectors = excluded.vectors;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER chunks_version_ai AFTER INSERT ON chunks FOR EACH ROW EXECUTE FUNCTION week_passages_bump();
CREATE TRIGGER chunks_version_ad AFTER DELETE ON chunks FOR EACH ROW EXECUTE FUNCTION week_passages_bump();
CREATE TRIGGER chunks_version_au AFTER UPDATE ON chunks FOR EACH ROW EXECUTE FUNCTION week_passages_bump();
CREATE TRIGGER documents_version_au AFTER UPDATE OF status ON documents FOR EACH ROW EXECUTE FUNCTION week_passages_bump();
CREATE TRIGGER chunk_vectors_version_ai AFTER INSERT ON chunk_vectors FOR EACH ROW EXECUTE FUNCTION week_vectors_bump();
CREATE TRIGGER chunk_vectors_version_ad AFTER DELETE ON chunk_vectors FOR EACH ROW EXECUTE FUNCTION week_vectors_bump();
CREATE TRIGGER chunk_vectors_version_au AFTER UPDATE ON chunk_vectors FOR EACH ROW EXECUTE FUNCTION week_vectors_bump();

-- +goose Down
DROP TABLE week_versions;
DROP TABLE version_clock;
DROP TABLE chunk_vectors;
DROP TRIGGER chunks_version_ai ON chunks;
DROP TRIGGER chunks_version_ad ON chunks;
DROP TRIGGER chunks_version_au ON chunks;
DROP TRIGGER documents_version_au ON documents;
DROP FUNCTION week_passages_bump();
DROP FUNCTION week_vectors_bump();
