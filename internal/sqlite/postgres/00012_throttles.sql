-- +goose Up
-- The twin of migrations/00012_throttles.sql: the throttles every instance
-- shares, one row per counted attempt and one per trusted pair, times in
-- Unix nanoseconds.
CREATE TABLE throttle_attempts (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key     text   NOT NULL,
    at      bigint NOT NULL,
    expires bigint NOT NULL,
    account text   NOT NULL DEFAULT ''
);

CREATE INDEX throttle_attempts_key ON throttle_attempts (key, at);
CREATE INDEX throttle_attempts_expires ON throttle_attempts (expires);
CREATE INDEX throttle_attempts_account ON throttle_attempts (account) WHERE account <> '';

CREATE TABLE login_trust (
    pair    text   PRIMARY KEY,
    at      bigint NOT NULL,
    expires bigint NOT NULL
);

CREATE INDEX login_trust_expires ON login_trust (expires);

-- +goose Down
DROP TABLE login_trust;
DROP TABLE throttle_attempts;
