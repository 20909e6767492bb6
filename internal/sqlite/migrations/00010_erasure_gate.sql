-- +goose Up
-- 1. The audit log's exception for erasure (00009) let any UPDATE blank an
--    entry's address or detail. Now it holds only while erasure_in_progress
--    has its row, which auth.Erase inserts and deletes inside its own write
--    transaction: no other statement ever sees the row, so a stray UPDATE
--    (a bug, a hand-typed query) is refused as before 00009. It is a guard
--    against mistakes, not against someone who can write to the file.
-- 2. 00009 rebuilt users with foreign keys off and never checked them
--    (that file has shipped, so it stays as it is): check them here, and
--    stop if a reference was broken, naming the check in the error.
CREATE TABLE erasure_in_progress (
    one INTEGER PRIMARY KEY CHECK (one = 1)
) STRICT;

DROP TRIGGER audit_log_no_update;

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (new.id IS old.id AND new.at IS old.at AND new.actor_id IS old.actor_id
      AND new.action IS old.action AND new.target_type IS old.target_type AND new.target_id IS old.target_id
      AND (new.ip IS old.ip OR (new.ip = '' AND EXISTS (SELECT 1 FROM erasure_in_progress)))
      AND (new.detail IS old.detail OR (new.detail = '{}' AND EXISTS (SELECT 1 FROM erasure_in_progress))))
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: only an account erasure may blank an address or a detail');
END;
-- +goose StatementEnd

CREATE TEMP TABLE foreign_key_check (
    broken INTEGER NOT NULL CONSTRAINT foreign_keys_intact_after_users_rebuild CHECK (broken = 0)
);
INSERT INTO foreign_key_check SELECT count(*) FROM pragma_foreign_key_check;
DROP TABLE foreign_key_check;

-- +goose Down
DROP TRIGGER audit_log_no_update;

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (new.id IS old.id AND new.at IS old.at AND new.actor_id IS old.actor_id
      AND new.action IS old.action AND new.target_type IS old.target_type AND new.target_id IS old.target_id
      AND (new.ip IS old.ip OR new.ip = '') AND (new.detail IS old.detail OR new.detail = '{}'))
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: only erasing an address or a detail is allowed');
END;
-- +goose StatementEnd

DROP TABLE erasure_in_progress;
