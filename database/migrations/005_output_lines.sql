-- Output lines as the executor reads them from targets, for live logs: streamed within about a
-- second, capped per step attempt. step_results keeps each attempt's whole (capped) output at its end.
CREATE TABLE output_lines (
  seq         bigserial PRIMARY KEY,
  job_id      text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  step_id     text NOT NULL,
  target_id   text NOT NULL,
  target_name text NOT NULL,
  attempt     integer NOT NULL,
  stream      text NOT NULL CHECK (stream IN ('stdout', 'stderr')),
  at          timestamptz NOT NULL,
  line        text NOT NULL
);
-- A live log reads "lines of this job after seq N".
CREATE INDEX output_lines_job_seq_idx ON output_lines (job_id, seq);

-- The executor only appends; the orchestrator reads (a job's deletion removes its lines).
GRANT INSERT ON output_lines TO opsc_executor;
GRANT USAGE ON SEQUENCE output_lines_seq_seq TO opsc_executor;
GRANT SELECT ON output_lines TO opsc_orchestrator;
