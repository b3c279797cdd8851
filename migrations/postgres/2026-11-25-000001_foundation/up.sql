-- Times are RFC 3339 UTC text ("2026-11-25T10:00:00Z"): one representation that sorts and
-- compares the same way on SQLite and PostgreSQL.
CREATE TABLE communes (
    code       TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    province   TEXT NOT NULL,
    demo       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL
);

-- Officials and agencies that can sign, with the certificate and the key it belongs to.
CREATE TABLE signers (
    id              TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('official', 'agency')),
    commune_code    TEXT NOT NULL REFERENCES communes (code),
    name            TEXT NOT NULL,
    title           TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    cert_serial     TEXT NOT NULL,
    not_before      TEXT NOT NULL,
    not_after       TEXT NOT NULL,
    key_ref         TEXT NOT NULL,
    dev             BOOLEAN NOT NULL DEFAULT FALSE,
    failed_pins     INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX signers_commune ON signers (commune_code);

CREATE TABLE api_clients (
    id           TEXT PRIMARY KEY NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'portal', 'viewer')),
    commune_code TEXT REFERENCES communes (code),
    label        TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE signing_log (
    id            TEXT PRIMARY KEY NOT NULL,
    signer_id     TEXT NOT NULL REFERENCES signers (id),
    client_id     TEXT REFERENCES api_clients (id),
    commune_code  TEXT NOT NULL,
    level         TEXT NOT NULL,
    input_sha256  TEXT NOT NULL,
    output_sha256 TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX signing_log_commune_time ON signing_log (commune_code, created_at);
