-- Certificate roll-out tracking: who in each commune needs a certificate, the certificates
-- they hold, the requests filed with the CA and every change made to any of it.

-- Officials (people) and the commune's agency (cơ quan) itself.
CREATE TABLE officials (
    id           TEXT PRIMARY KEY NOT NULL,
    commune_code TEXT NOT NULL REFERENCES communes (code),
    kind         TEXT NOT NULL CHECK (kind IN ('person', 'agency')),
    name         TEXT NOT NULL,
    -- 12-digit personal identification number (persons) or tax code (agencies).
    personal_id  TEXT UNIQUE,
    tax_code     TEXT UNIQUE,
    position     TEXT NOT NULL,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX officials_commune ON officials (commune_code);

CREATE TABLE certificates (
    id                      TEXT PRIMARY KEY NOT NULL,
    official_id             TEXT NOT NULL REFERENCES officials (id),
    serial                  TEXT NOT NULL,
    issuer                  TEXT NOT NULL,
    subject                 TEXT NOT NULL,
    -- The subject's UID values, one per line (`CCCD:…`, `MST:…`).
    uids                    TEXT NOT NULL,
    not_before              TEXT NOT NULL,
    not_after               TEXT NOT NULL,
    key_usage               TEXT NOT NULL,
    fingerprint             TEXT NOT NULL UNIQUE,
    pem                     TEXT NOT NULL,
    revoked_at              TEXT,
    revocation_reason       TEXT,
    replaces_certificate_id TEXT REFERENCES certificates (id),
    created_at              TEXT NOT NULL
);
CREATE INDEX certificates_official ON certificates (official_id);
CREATE INDEX certificates_serial ON certificates (serial);

CREATE TABLE issuance_requests (
    id             TEXT PRIMARY KEY NOT NULL,
    commune_code   TEXT NOT NULL REFERENCES communes (code),
    official_id    TEXT NOT NULL REFERENCES officials (id),
    kind           TEXT NOT NULL,
    form           TEXT NOT NULL,
    state          TEXT NOT NULL,
    note           TEXT NOT NULL,
    certificate_id TEXT REFERENCES certificates (id),
    submitted_at   TEXT,
    received_at    TEXT,
    closed_at      TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX issuance_requests_commune_state ON issuance_requests (commune_code, state);
CREATE INDEX issuance_requests_official ON issuance_requests (official_id);

CREATE TABLE request_events (
    id         TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES issuance_requests (id),
    -- 1, 2, 3… within a request: the order of events, however close in time.
    seq        INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    note       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX request_events_request ON request_events (request_id, seq);

CREATE TABLE audit_log (
    id         TEXT PRIMARY KEY NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    -- With microseconds, so entries of one request keep their order.
    created_at TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, created_at);
