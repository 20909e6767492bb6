-- +goose Up
-- Throttles shared by every instance on the database (issue 20): one row
-- per counted attempt (a failed or in-flight sign-in, a registration, a
-- wrong join code), and one per trusted (account, address) pair. Times are
-- Unix nanoseconds so an attempt is uncounted by exactly the time it was
-- counted at. expires is when the row stops mattering; auth prunes by it.
-- account is the sign-in's account key (u:<id>, or a:<name> for a name
-- that is no account) on every row a sign-in counted, its address's too,
-- so erasing an account finds every row its attempts left.
CREATE TABLE throttle_attempts (
    id      INTEGER PRIMARY KEY,
    key     TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    account TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX throttle_attempts_key ON throttle_attempts (key, at);
CREATE INDEX throttle_attempts_expires ON throttle_attempts (expires);
CREATE INDEX throttle_attempts_account ON throttle_attempts (account) WHERE account <> '';

CREATE TABLE login_trust (
    pair    TEXT    PRIMARY KEY,
    at      INTEGER NOT NULL,
    expires INTEGER NOT NULL
) STRICT;

CREATE INDEX login_trust_expires ON login_trust (expires);

-- +goose Down
DROP TABLE login_trust;
DROP TABLE throttle_attempts;
