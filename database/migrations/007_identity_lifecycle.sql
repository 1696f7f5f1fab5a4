-- Identity lifecycle (issue 15): user names are unique within a tenant (so that one tenant's admin
-- cannot probe another's), every API token expires, sign-in failures lock an account by name, and
-- the audit log is read newest first by time, then id.

-- Names already unique across all tenants stay unique within each: no row changes.
ALTER TABLE users DROP CONSTRAINT users_username_key;
ALTER TABLE users ADD CONSTRAINT users_tenant_username_key UNIQUE (tenant_id, username);

-- Tokens issued without an expiry get the default one (90 days) from now; none can be issued without.
UPDATE api_tokens SET expires_at = now() + interval '90 days' WHERE expires_at IS NULL;
ALTER TABLE api_tokens ALTER COLUMN expires_at SET NOT NULL;
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, created_at DESC);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Failed sign-ins by the (tenant, user name) they named, whether or not that user exists: a lock
-- that only real accounts got would tell a guesser which names are real. Kept here rather than in
-- a process so that every orchestrator enforces the same lock.
CREATE TABLE sign_in_failures (
  tenant          text NOT NULL,
  username        text NOT NULL,
  -- Failures since the last successful sign-in (an attempt counts from the moment it starts).
  failures        integer NOT NULL,
  locked_until    timestamptz,
  last_failure_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, username)
);
CREATE INDEX sign_in_failures_last_idx ON sign_in_failures (last_failure_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON sign_in_failures TO opsc_orchestrator;

-- Newest first by time, then id: the keyset the audit API pages with.
DROP INDEX audit_log_tenant_at_idx;
CREATE INDEX audit_log_tenant_at_id_idx ON audit_log (tenant_id, at DESC, id DESC);
