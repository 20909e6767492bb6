-- +goose Up
-- The twin of migrations/00007_document_warnings.sql: a JSON array of
-- strings, the prompt-injection warnings found in a document.
ALTER TABLE documents ADD COLUMN warnings text NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE documents DROP COLUMN warnings;
