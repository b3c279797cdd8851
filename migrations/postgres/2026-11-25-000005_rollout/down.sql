DROP TABLE audit_log;
DROP TABLE request_events;
DROP TABLE issuance_requests;
DROP TABLE certificates;
DROP TABLE officials;
