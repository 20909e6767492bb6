-- +goose Up
-- A session's pace and cost, kept on its row so the checks every new
-- student turn must pass read no more than a few rows: how many student
-- turns it has stored (answered or not) and when the last came
-- (SESSION_MIN_TURN_INTERVAL_SECONDS, SESSION_MAX_TURNS), and the model
-- tokens its answers cost (STUDENT_DAILY_TOKEN_BUDGET, summed over the
-- sessions a student started that day through sessions_user).
ALTER TABLE sessions ADD COLUMN student_turns INTEGER NOT NULL DEFAULT 0 CHECK (student_turns >= 0);
ALTER TABLE sessions ADD COLUMN last_turn_at TEXT;
ALTER TABLE sessions ADD COLUMN tokens_used INTEGER NOT NULL DEFAULT 0 CHECK (tokens_used >= 0);
UPDATE sessions SET
    student_turns = (SELECT count(*) FROM turns t WHERE t.session_id = sessions.id AND t.role = 'user'),
    last_turn_at = (SELECT max(at) FROM turns t WHERE t.session_id = sessions.id AND t.role = 'user'),
    tokens_used = (SELECT coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0)
                   FROM turns t WHERE t.session_id = sessions.id AND t.role = 'assistant');

-- +goose Down
ALTER TABLE sessions DROP COLUMN tokens_used;
ALTER TABLE sessions DROP COLUMN last_turn_at;
ALTER TABLE sessions DROP COLUMN student_turns;
