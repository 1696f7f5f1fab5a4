-- Retrying what failed (docs/retry.md): a retry job is a new job over the targets of a finished job
-- that did not get through their steps, each starting at the step where it stopped. It records the
-- job it retries, the first job of its lineage (same plan, same plan hash) and, per target, where
-- it starts and which job each step it skips was done in (with the facts that step reported there).
ALTER TABLE jobs
  ADD COLUMN retry_of    text REFERENCES jobs (id) ON DELETE SET NULL,
  ADD COLUMN root_job_id text,
  ADD COLUMN resume      jsonb,
  ADD CONSTRAINT jobs_retry_lineage CHECK ((retry_of IS NULL) = (resume IS NULL));
CREATE INDEX jobs_retry_of_idx ON jobs (retry_of) WHERE retry_of IS NOT NULL;

-- The executor's job gate admits a retry job's undo of a carried step only with the facts the
-- linked job recorded for it (activities/src/execution/job-gate.ts): it reads where each target
-- starts and which job each carried step stands from.
GRANT SELECT (retry_of, resume) ON jobs TO opsc_executor;
