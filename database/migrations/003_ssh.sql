-- SSH execution: pinned host keys, and how much output a step really produced (the stored text is capped).
CREATE TABLE ssh_host_keys (
  target_id   uuid PRIMARY KEY REFERENCES targets (id) ON DELETE CASCADE,
  algorithm   text NOT NULL,
  -- The key blob, base64, as in a known_hosts line.
  public_key  text NOT NULL,
  fingerprint text NOT NULL CHECK (fingerprint ~ '^SHA256:[A-Za-z0-9+/]{43}$'),
  -- How it was pinned: first contact under accept-new, or an explicit enrolment step.
  source      text NOT NULL CHECK (source IN ('first-contact', 'enrolment')),
  pinned_at   timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE step_results ADD COLUMN stdout_bytes bigint, ADD COLUMN stderr_bytes bigint, ADD COLUMN facts jsonb;

-- The executor pins keys; operators see them and forget one after a legitimate re-key.
GRANT SELECT, INSERT ON ssh_host_keys TO opsc_executor;
GRANT SELECT, DELETE ON ssh_host_keys TO opsc_orchestrator;

-- The inventory targets each step was resolved to when the job was created: what it really ran on.
ALTER TABLE jobs ADD COLUMN resolved_targets jsonb NOT NULL DEFAULT '{"targets": [], "stepTargets": {}}';
