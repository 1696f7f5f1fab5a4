-- Inventory, the credential vault, identity and the audit log, and the two roles the services run
-- as. The roles are NOLOGIN here; the stack's provisioning (database/src/roles.ts) gives them a
-- login. PostgreSQL itself keeps the orchestrator away from sealed secrets and keeps the audit
-- log append-only: the grants below are the enforcement, not a convention.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'opsc_orchestrator') THEN CREATE ROLE opsc_orchestrator NOLOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'opsc_executor') THEN CREATE ROLE opsc_executor NOLOGIN; END IF;
END
$$;

CREATE TABLE tenants (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
  -- Approver must differ from requester (issue: approvals).
  four_eyes  boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._@-]{0,99}$'),
  display_name  text NOT NULL DEFAULT '',
  role          text NOT NULL CHECK (role IN ('viewer', 'operator', 'approver', 'admin')),
  -- scrypt, PHC-style string; null = cannot sign in with a password (token only).
  password_hash text,
  disabled      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- SHA-256 of the token; the token itself is shown once and never stored.
  token_hash   text NOT NULL UNIQUE,
  prefix       text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  last_used_at timestamptz,
  revoked_at   timestamptz
);

CREATE TABLE sessions (
  -- SHA-256 of the cookie value.
  id_hash    text PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  source_ip  text
);

-- Public halves of the vault master keys; the private halves exist only in the executor's config.
CREATE TABLE vault_keys (
  key_id     text PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{16}$'),
  public_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz
);
CREATE UNIQUE INDEX vault_keys_one_current ON vault_keys ((true)) WHERE retired_at IS NULL;

CREATE TABLE credentials (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  kind        text NOT NULL CHECK (kind IN ('password', 'ssh-key', 'winrm', 'api-token', 'client-certificate')),
  username    text,
  -- Non-secret settings (WinRM transport, header name, certificate subject, ...).
  metadata    jsonb NOT NULL DEFAULT '{}',
  fingerprint text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

CREATE TABLE credential_secrets (
  credential_id uuid PRIMARY KEY REFERENCES credentials (id) ON DELETE CASCADE,
  key_id        text NOT NULL,
  sealed        jsonb NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE targets (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  address    text NOT NULL,
  os         text NOT NULL CHECK (os IN ('linux', 'windows')),
  tags       text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);
CREATE INDEX targets_tags_idx ON targets USING gin (tags);

CREATE TABLE target_services (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  target_id     uuid NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
  protocol      text NOT NULL CHECK (protocol IN ('ssh', 'winrm', 'http')),
  port          integer CHECK (port BETWEEN 1 AND 65535),
  -- winrm: scheme, transport, verify; http: baseUrl.
  options       jsonb NOT NULL DEFAULT '{}',
  credential_id uuid REFERENCES credentials (id) ON DELETE RESTRICT,
  UNIQUE (target_id, protocol)
);

CREATE TABLE target_groups (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

CREATE TABLE group_targets (
  group_id  uuid NOT NULL REFERENCES target_groups (id) ON DELETE CASCADE,
  target_id uuid NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, target_id)
);

CREATE TABLE group_children (
  parent_id uuid NOT NULL REFERENCES target_groups (id) ON DELETE CASCADE,
  child_id  uuid NOT NULL REFERENCES target_groups (id) ON DELETE CASCADE,
  PRIMARY KEY (parent_id, child_id),
  CHECK (parent_id <> child_id)
);

CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  tenant_id   uuid,
  actor       text NOT NULL,
  action      text NOT NULL,
  object_type text,
  object_id   text,
  job_id      text,
  plan_hash   text,
  source_ip   text,
  details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_tenant_at_idx ON audit_log (tenant_id, at DESC);

-- Append-only even for the table owner: history is not edited.
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

ALTER TABLE jobs ADD COLUMN tenant_id uuid REFERENCES tenants (id);

-- Orchestrator: inventory and identity read/write; credentials' metadata; secrets write-only.
GRANT SELECT ON schema_migrations TO opsc_orchestrator, opsc_executor;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, users, api_tokens, sessions, targets, target_services,
  target_groups, group_targets, group_children, credentials, jobs, step_results TO opsc_orchestrator;
GRANT SELECT ON vault_keys TO opsc_orchestrator;
GRANT INSERT, DELETE ON credential_secrets TO opsc_orchestrator;
GRANT SELECT (credential_id, key_id, updated_at), UPDATE (key_id, sealed, updated_at) ON credential_secrets TO opsc_orchestrator;
GRANT SELECT, INSERT ON audit_log TO opsc_orchestrator, opsc_executor;
GRANT USAGE ON SEQUENCE audit_log_id_seq TO opsc_orchestrator, opsc_executor;

-- Executor: reads what it needs to reach targets, opens and re-wraps secrets, writes output.
GRANT SELECT ON targets, target_services, credentials, tenants TO opsc_executor;
GRANT SELECT, UPDATE ON credential_secrets TO opsc_executor;
GRANT SELECT, INSERT, UPDATE ON vault_keys TO opsc_executor;
GRANT SELECT (id, tenant_id, status) ON jobs TO opsc_executor;
GRANT SELECT, INSERT, UPDATE ON step_results TO opsc_executor;
