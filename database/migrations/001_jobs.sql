-- Jobs and their per-step, per-target results. The workflow is the source of truth for a running
-- job's state; these rows are the durable record (and hold full output, which history does not).
CREATE TABLE jobs (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  plan          jsonb NOT NULL,
  plan_hash     text NOT NULL CHECK (plan_hash ~ '^[0-9a-f]{64}$'),
  requested_by  text NOT NULL,
  status        text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
  error_type    text,
  error_message text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz
);
CREATE INDEX jobs_created_at_idx ON jobs (created_at DESC);

CREATE TABLE step_results (
  job_id           text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  step_id          text NOT NULL,
  target_id        text NOT NULL,
  target_name      text NOT NULL,
  -- The workflow's verdict; null while only the executor's record exists.
  status           text CHECK (status IN ('succeeded', 'failed', 'skipped')),
  attempt          integer,
  method           text,
  exit_code        integer,
  signal           text,
  http_status      integer,
  stdout           text,
  stderr           text,
  stdout_truncated boolean,
  stderr_truncated boolean,
  error_type       text,
  error_message    text,
  started_at       timestamptz,
  finished_at      timestamptz,
  PRIMARY KEY (job_id, step_id, target_id)
);
