-- Numbering books (sổ): one per commune, kind of document and year. `next_number` is the
-- number the next issued document gets; it only moves inside the transaction that records
-- that document, so numbers are gap-free and never reused.
CREATE TABLE numbering_books (
    id           TEXT PRIMARY KEY NOT NULL,
    commune_code TEXT NOT NULL REFERENCES communes (code),
    kind         TEXT NOT NULL,
    year         INTEGER NOT NULL,
    next_number  INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (commune_code, kind, year)
);

-- Issued documents: extracts and certified copies.
CREATE TABLE documents (
    id                TEXT PRIMARY KEY NOT NULL,
    kind              TEXT NOT NULL,
    commune_code      TEXT NOT NULL REFERENCES communes (code),
    book_id           TEXT NOT NULL REFERENCES numbering_books (id),
    year              INTEGER NOT NULL,
    number            INTEGER NOT NULL,
    number_label      TEXT NOT NULL,
    book_label        TEXT NOT NULL,
    lookup_code       TEXT NOT NULL UNIQUE,
    official_id       TEXT NOT NULL REFERENCES signers (id),
    agency_id         TEXT REFERENCES signers (id),
    state             TEXT NOT NULL CHECK (state IN ('signed_official', 'sealed')),
    sha256            TEXT NOT NULL,
    size              BIGINT NOT NULL,
    blob_key          TEXT NOT NULL,
    client_id         TEXT REFERENCES api_clients (id),
    idempotency_key   TEXT,
    request_sha256    TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    sealed_at         TEXT,
    UNIQUE (book_id, number),
    UNIQUE (client_id, idempotency_key)
);
CREATE INDEX documents_commune_time ON documents (commune_code, created_at);

-- The database blob store (multi-instance deployments); the default keeps files on disk.
CREATE TABLE blobs (
    key        TEXT PRIMARY KEY NOT NULL,
    data       BLOB NOT NULL,
    created_at TEXT NOT NULL
);
