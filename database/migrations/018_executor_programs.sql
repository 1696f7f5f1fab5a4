-- What each executor can run on its own host (activities/src/execution/sandbox/local-programs.ts):
-- every allowed local program, installed and working in the sandbox or not, and why. The
-- orchestrator hides a tool whose program no live executor can run, with the reason, instead of
-- letting a step fail with ENOENT. Rows of executors gone age out (reported_at).
CREATE TABLE executor_programs (
  executor_id text PRIMARY KEY,
  task_queue text NOT NULL,
  programs jsonb NOT NULL,
  reported_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE, DELETE ON executor_programs TO opsc_executor;
GRANT SELECT ON executor_programs TO opsc_orchestrator;
