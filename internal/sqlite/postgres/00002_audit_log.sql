-- +goose Up
-- The audit log is append-only: the triggers refuse any UPDATE or DELETE.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          text   NOT NULL,
    actor_id    bigint,
    action      text   NOT NULL,
    target_type text   NOT NULL DEFAULT '',
    target_id   bigint,
    ip          text   NOT NULL DEFAULT '',
    detail      text   NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);

-- +goose StatementBegin
CREATE FUNCTION audit_log_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION audit_log_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_no_update();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_no_delete();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_no_update();
DROP FUNCTION audit_log_no_delete();
