-- +goose Up
-- The twin of migrations/00009_erasure.sql. Its first half, ids never
-- handed out twice, PostgreSQL's identity columns already guarantee (a
-- sequence never goes back), so users stays as it is. Its second half: the
-- audit log stays append-only except for erasure, where an entry's address
-- may be blanked and its detail emptied, nothing else changed.
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
