-- The durable rollout: approval and mid-run decisions, more job states, what jobs are searched by,
-- tenant approval settings, and per-tool durations for ETAs.
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check CHECK (status IN (
  'queued', 'awaiting_approval', 'running', 'paused', 'awaiting_decision', 'rolling_back',
  'completed', 'failed', 'cancelled', 'rejected'));

ALTER TABLE jobs
  ADD COLUMN risk text NOT NULL DEFAULT 'read' CHECK (risk IN ('read', 'change', 'destructive')),
  ADD COLUMN target_group text,
  -- The request text the plan answered, when a planner made it.
  ADD COLUMN request text,
  ADD COLUMN summary jsonb,
  -- Who approved or rejected, when and why; null while nobody has.
  ADD COLUMN approval jsonb,
  -- Mid-run decisions, pauses and cancels, in order.
  ADD COLUMN events jsonb NOT NULL DEFAULT '[]';
CREATE INDEX jobs_tenant_created_idx ON jobs (tenant_id, created_at DESC);
CREATE INDEX jobs_tenant_status_idx ON jobs (tenant_id, status);

-- Unanswered approvals reject the job after this long (four_eyes came with the tenants table).
ALTER TABLE tenants
  ADD COLUMN approval_timeout_seconds integer NOT NULL DEFAULT 86400
    CHECK (approval_timeout_seconds BETWEEN 5 AND 2592000);

-- What each result's duration is recorded under (the step's tool), for the ETA of later jobs.
ALTER TABLE step_results ADD COLUMN tool_key text;
CREATE INDEX step_results_tool_target_idx ON step_results (tool_key, target_id, finished_at DESC);

-- An event recorded by a retried activity lands once.
ALTER TABLE audit_log ADD COLUMN event_key text;
CREATE UNIQUE INDEX audit_log_event_key_idx ON audit_log (event_key);
ALTER TABLE step_results ADD COLUMN duration_ms integer;
-- The finished job's counts (targets completed, failed, rolled back; failed undo actions).
ALTER TABLE jobs ADD COLUMN outcome jsonb;
