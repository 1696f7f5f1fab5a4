-- Targets may expose a PostgreSQL service, queried by the executor (read-only by default).
ALTER TABLE target_services DROP CONSTRAINT target_services_protocol_check;
ALTER TABLE target_services ADD CONSTRAINT target_services_protocol_check CHECK (protocol IN ('ssh', 'winrm', 'http', 'postgresql'));
