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
    prepared_pdf   BYTEA NOT NULL,
    original_len   BIGINT NOT NULL,
    contents_start BIGINT NOT NULL,
    contents_end   BIGINT NOT NULL,
    to_sign        BYTEA NOT NULL,
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
-- signers: signer_id becomes optional.
ALTER TABLE signing_log ALTER COLUMN signer_id DROP NOT NULL;
ALTER TABLE signing_log ADD COLUMN certificate_id TEXT REFERENCES certificates (id);
ALTER TABLE signing_log ADD COLUMN session_id TEXT REFERENCES signing_sessions (id);
ALTER TABLE signing_log ADD CONSTRAINT signing_log_signer_or_certificate
    CHECK (signer_id IS NOT NULL OR certificate_id IS NOT NULL);
