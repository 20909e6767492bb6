-- +goose Up
-- The twin of migrations/00008_session_pace.sql: a session's pace and cost
-- on its row.
ALTER TABLE sessions ADD COLUMN student_turns bigint NOT NULL DEFAULT 0 CHECK (student_turns >= 0);
ALTER TABLE sessions ADD COLUMN last_turn_at text;
ALTER TABLE sessions ADD COLUMN tokens_used bigint NOT NULL DEFAULT 0 CHECK (tokens_used >= 0);
UPDATE sessions SET
    student_turns = (SELECT count(*) FROM turns t WHERE t.session_id = sessions.id AND t.role = 'user'),
    last_turn_at = (SELECT max(at) FROM turns t WHERE t.session_id = sessions.id AND t.role = 'user'),
    tokens_used = (SELECT coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0)
                   FROM turns t WHERE t.session_id = sessions.id AND t.role = 'assistant');

-- +goose Down
ALTER TABLE sessions DROP COLUMN tokens_used;
ALTER TABLE sessions DROP COLUMN last_turn_at;
ALTER TABLE sessions DROP COLUMN student_turns;
