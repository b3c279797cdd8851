-- Two-step signing (issue 11): a session holds the prepared PDF — the signing update with an
-- empty /Contents — and the signed attributes handed out, so that any instance sharing the
-- database can finish it. Single use: `open` until finished or expired.
CREATE TABLE signing_sessions (
    id             TEXT PRIMARY KEY NOT NULL,
    client_id      TEXT NOT NULL REFERENCES api_clients (id),
    commune_code   TEXT NOT NULL REFERENCES communes (code),
    -- The registered certificate the signature must be made with.
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    level          TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('open', 'finished', 'expired')),
    -- The unsigned PDF is its first `original_len` bytes (what a desktop tool signs).
    prepared_pdf   BLOB NOT NULL,
    original_len   BIGINT NOT NULL,
    contents_start BIGINT NOT NULL,
    contents_end   BIGINT NOT NULL,
    to_sign        BLOB NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    finished_at    TEXT,
    -- An issued document waiting for its official's signature: its number is taken.
    document_kind  TEXT,
    book_id        TEXT REFERENCES numbering_books (id),
    number         INTEGER,
    number_label   TEXT,
    book_label     TEXT,
    lookup_code    TEXT,
    signer_id      TEXT REFERENCES signers (id),
    request_sha256 TEXT,
    document_id    TEXT
);
CREATE INDEX signing_sessions_open ON signing_sessions (state, expires_at);

-- Numbers taken for a document that was never issued (its signing session expired): kept in
-- the book as void with the reason, never reused, never silently lost.
CREATE TABLE void_numbers (
    book_id      TEXT NOT NULL REFERENCES numbering_books (id),
    number       INTEGER NOT NULL,
    number_label TEXT NOT NULL,
    reason       TEXT NOT NULL,
    session_id   TEXT REFERENCES signing_sessions (id),
    created_at   TEXT NOT NULL,
    PRIMARY KEY (book_id, number)
);

-- A signature made through a session is by a registered certificate, not by one of kyso's
-- signers: signer_id becomes optional. SQLite cannot relax NOT NULL in place, so the table is
-- rebuilt (nothing references it).
CREATE TABLE signing_log_new (
    id             TEXT PRIMARY KEY NOT NULL,
    signer_id      TEXT REFERENCES signers (id),
    client_id      TEXT REFERENCES api_clients (id),
    commune_code   TEXT NOT NULL,
    level          TEXT NOT NULL,
    input_sha256   TEXT NOT NULL,
    output_sha256  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    certificate_id TEXT REFERENCES certificates (id),
    session_id     TEXT REFERENCES signing_sessions (id),
    CHECK (signer_id IS NOT NULL OR certificate_id IS NOT NULL)
);
INSERT INTO signing_log_new
    (id, signer_id, client_id, commune_code, level, input_sha256, output_sha256, created_at)
    SELECT id, signer_id, client_id, commune_code, level, input_sha256, output_sha256, created_at
    FROM signing_log;
DROP TABLE signing_log;
ALTER TABLE signing_log_new RENAME TO signing_log;
CREATE INDEX signing_log_commune_time ON signing_log (commune_code, created_at);
