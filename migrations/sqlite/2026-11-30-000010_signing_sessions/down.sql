CREATE TABLE signing_log_old (
    id            TEXT PRIMARY KEY NOT NULL,
    signer_id     TEXT NOT NULL REFERENCES signers (id),
    client_id     TEXT REFERENCES api_clients (id),
    commune_code  TEXT NOT NULL,
    level         TEXT NOT NULL,
    input_sha256  TEXT NOT NULL,
    output_sha256 TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
INSERT INTO signing_log_old
    SELECT id, signer_id, client_id, commune_code, level, input_sha256, output_sha256, created_at
    FROM signing_log WHERE signer_id IS NOT NULL;
DROP TABLE signing_log;
ALTER TABLE signing_log_old RENAME TO signing_log;
CREATE INDEX signing_log_commune_time ON signing_log (commune_code, created_at);
DROP TABLE void_numbers;
DROP TABLE signing_sessions;
