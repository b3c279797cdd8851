DELETE FROM signing_log WHERE signer_id IS NULL;
ALTER TABLE signing_log DROP CONSTRAINT signing_log_signer_or_certificate;
ALTER TABLE signing_log DROP COLUMN session_id;
ALTER TABLE signing_log DROP COLUMN certificate_id;
ALTER TABLE signing_log ALTER COLUMN signer_id SET NOT NULL;
DROP TABLE void_numbers;
DROP TABLE signing_sessions;
