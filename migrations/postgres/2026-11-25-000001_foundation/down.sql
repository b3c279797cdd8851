DROP TABLE signing_log;
DROP TABLE api_clients;
DROP TABLE signers;
DROP TABLE communes;
