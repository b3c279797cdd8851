DROP TABLE sessions;
ALTER TABLE certificates DROP COLUMN trusted;
ALTER TABLE signers DROP COLUMN pin_window_start;
ALTER TABLE api_clients DROP COLUMN revoked_at;
ALTER TABLE api_clients DROP COLUMN expires_at;
