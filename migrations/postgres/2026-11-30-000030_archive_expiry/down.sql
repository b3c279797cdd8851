DROP INDEX documents_archive_expires_at;
ALTER TABLE documents DROP COLUMN archive_expires_at;
