-- +goose Up
-- The twin of migrations/00010_erasure_gate.sql: the audit log's exception
-- for erasure holds only while erasure_in_progress has its row, which
-- auth.Erase inserts and deletes inside its own transaction (no other
-- transaction ever sees it). SQLite's file also checks the foreign keys its
-- 00009 rebuild could have broken; PostgreSQL never turned them off.
CREATE TABLE erasure_in_progress (
    one bigint PRIMARY KEY CHECK (one = 1)
);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NOT DISTINCT FROM OLD.id AND NEW.at IS NOT DISTINCT FROM OLD.at
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id AND NEW.action IS NOT DISTINCT FROM OLD.action
       AND NEW.target_type IS NOT DISTINCT FROM OLD.target_type AND NEW.target_id IS NOT DISTINCT FROM OLD.target_id
       AND (NEW.ip IS NOT DISTINCT FROM OLD.ip OR (NEW.ip = '' AND EXISTS (SELECT 1 FROM erasure_in_progress)))
       AND (NEW.detail IS NOT DISTINCT FROM OLD.detail OR (NEW.detail = '{}' AND EXISTS (SELECT 1 FROM erasure_in_progress))) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: only an account erasure may blank an address or a detail';
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NOT DISTINCT FROM OLD.id AND NEW.at IS NOT DISTINCT FROM OLD.at
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id AND NEW.action IS NOT DISTINCT FROM OLD.action
       AND NEW.target_type IS NOT DISTINCT FROM OLD.target_type AND NEW.target_id IS NOT DISTINCT FROM OLD.target_id
       AND (NEW.ip IS NOT DISTINCT FROM OLD.ip OR NEW.ip = '')
       AND (NEW.detail IS NOT DISTINCT FROM OLD.detail OR NEW.detail = '{}') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: only erasing an address or a detail is allowed';
END;
$$;
-- +goose StatementEnd

DROP TABLE erasure_in_progress;
