-- +goose Up
-- Warnings for a document's instructors, as a JSON array of strings: text
-- in the reading that looks like instructions to an AI model (prompt
-- injection), found when the document is processed. The passages are kept
-- and searched as usual; the tutor's prompt treats them as material to
-- discuss, never as instructions.
ALTER TABLE documents ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE documents DROP COLUMN warnings;
