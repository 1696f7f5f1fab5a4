-- What started a job (contracts/src/job-origin.ts): a person's request, a retry of another job, a
-- template run, a schedule or a trigger. Set by the server when the job is recorded, never changed.
ALTER TABLE jobs ADD COLUMN origin jsonb NOT NULL DEFAULT '{"kind": "manual"}';
ALTER TABLE jobs ADD CONSTRAINT jobs_origin_kind_check
  CHECK (origin->>'kind' IN ('manual', 'retry', 'template', 'schedule', 'trigger'));
CREATE INDEX jobs_origin_kind_idx ON jobs (tenant_id, (origin->>'kind'), created_at DESC);
