-- Triggers: inbound webhooks bound to a template (docs/triggers.md). A delivery that authenticates
-- fills the template's typed parameters from its payload (a mapping, never code) and runs the
-- template as the trigger's owner; the template's approval rules apply.
CREATE TABLE triggers (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description      text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
  template_id      uuid NOT NULL REFERENCES templates (id),
  -- null: the template's latest version at each delivery.
  template_version integer CHECK (template_version >= 1),
  -- Whose role runs it. No cascade: a user who owns a trigger is disabled, not deleted.
  owner_id         uuid NOT NULL REFERENCES users (id),
  kind             text NOT NULL CHECK (kind IN ('generic', 'alertmanager')),
  -- { "<param>": { "from": "$.path", "default"?: v } | { "value": v } }
  mapping          jsonb NOT NULL,
  -- Alertmanager: the mapping of a resolved notification; null = resolved notifications are ignored.
  resolved_mapping jsonb,
  -- Alertmanager: a repeat of the same firing set within this window starts no second job.
  dedupe_seconds   integer NOT NULL DEFAULT 14400 CHECK (dedupe_seconds BETWEEN 60 AND 604800),
  enabled          boolean NOT NULL DEFAULT true,
  -- generic: the secret is derived from the orchestrator's trigger key and this salt (nothing
  -- stored here recovers it); key_id tells which key derived it.
  secret_salt      text CHECK (secret_salt ~ '^[0-9a-f]{32}$'),
  key_id           text CHECK (key_id ~ '^[0-9a-f]{16}$'),
  -- alertmanager: SHA-256 of the bearer credentials Alertmanager sends.
  secret_hash      text CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
  secret_rotated_at timestamptz NOT NULL DEFAULT now(),
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  deleted_at       timestamptz,
  CHECK ((kind = 'generic' AND secret_salt IS NOT NULL AND key_id IS NOT NULL AND secret_hash IS NULL)
      OR (kind = 'alertmanager' AND secret_hash IS NOT NULL AND secret_salt IS NULL AND key_id IS NULL))
);
CREATE UNIQUE INDEX triggers_tenant_name_idx ON triggers (tenant_id, lower(name)) WHERE deleted_at IS NULL;

-- Every delivery to a known trigger: accepted (with its job), a duplicate of an accepted one, ignored
-- (a resolved notification), refused (with the reason), or pending while it is handled. The
-- signatures of generic deliveries are remembered here (delivery_key), so a replay is refused.
CREATE TABLE trigger_deliveries (
  id           uuid PRIMARY KEY,
  trigger_id   uuid NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  received_at  timestamptz NOT NULL DEFAULT now(),
  outcome      text NOT NULL CHECK (outcome IN ('pending', 'accepted', 'duplicate', 'ignored', 'refused')),
  reason       text CHECK (length(reason) <= 1000),
  -- generic: SHA-256 of the signature; alertmanager: SHA-256 of the group key and its firing alerts.
  delivery_key text CHECK (delivery_key ~ '^[0-9a-f]{64}$'),
  job_id       text REFERENCES jobs (id) ON DELETE SET NULL,
  -- Handled after an interruption (the orchestrator stopped while it was pending).
  recovered    boolean NOT NULL DEFAULT false,
  source_ip    text CHECK (length(source_ip) <= 100)
);
CREATE INDEX trigger_deliveries_trigger_idx ON trigger_deliveries (trigger_id, received_at DESC);
CREATE INDEX trigger_deliveries_key_idx ON trigger_deliveries (trigger_id, delivery_key) WHERE delivery_key IS NOT NULL;
-- One job per delivery.
CREATE UNIQUE INDEX trigger_deliveries_job_idx ON trigger_deliveries (job_id) WHERE outcome = 'accepted';
-- The jobs a trigger started, to find one an interrupted delivery recorded.
CREATE INDEX jobs_origin_trigger_idx ON jobs ((origin->>'triggerId'), created_at) WHERE origin->>'kind' = 'trigger';

GRANT SELECT, INSERT ON triggers, trigger_deliveries TO opsc_orchestrator;
GRANT UPDATE (name, description, template_version, owner_id, mapping, resolved_mapping, dedupe_seconds, enabled,
  secret_salt, key_id, secret_hash, secret_rotated_at, updated_at, deleted_at) ON triggers TO opsc_orchestrator;
GRANT UPDATE (outcome, reason, job_id, recovered) ON trigger_deliveries TO opsc_orchestrator;
GRANT DELETE ON trigger_deliveries TO opsc_orchestrator;
