-- Least privilege (issue 9): keys that expire or are revoked, dashboard sessions instead of
-- keys in cookies, PIN attempts counted in a window, and certificates that count for
-- readiness only when they chain to a trust anchor and name their holder.
ALTER TABLE api_clients ADD COLUMN expires_at TEXT;
ALTER TABLE api_clients ADD COLUMN revoked_at TEXT;

-- When the current run of PIN attempts began; attempts older than the lock window are forgotten.
ALTER TABLE signers ADD COLUMN pin_window_start TEXT;

-- Chains to a trust anchor and its UID names the official it is registered to.
ALTER TABLE certificates ADD COLUMN trusted BOOLEAN NOT NULL DEFAULT FALSE;

-- Dashboard sign-ins: the cookie carries a random id, only its SHA-256 is stored.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY NOT NULL,
    client_id  TEXT NOT NULL REFERENCES api_clients (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_client ON sessions (client_id);
