-- PAdES B-LTA archive refresh (issue 12): when the newest timestamp of each issued document
-- stops proving anything (its authority's certificate expires), so that `kyso archive
-- refresh` finds the documents to renew without reading every stored file. NULL: not known
-- yet (documents issued before), or the document has no timestamp.
ALTER TABLE documents ADD COLUMN archive_expires_at TEXT;
CREATE INDEX documents_archive_expires_at ON documents (archive_expires_at);
