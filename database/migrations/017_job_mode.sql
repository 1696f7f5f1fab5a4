-- Check mode (contracts/src/check-mode.ts): a job either makes its plan's changes (`run`) or only
-- reports what they would change (`check`). Set by the server when the job is recorded, never changed.
ALTER TABLE jobs ADD COLUMN mode text NOT NULL DEFAULT 'run';
ALTER TABLE jobs ADD CONSTRAINT jobs_mode_check CHECK (mode IN ('run', 'check'));
-- The executor's job gate admits a check-mode job's read-only checks without an approval, and
-- nothing else of it: it reads the mode to know which.
GRANT SELECT (mode) ON jobs TO opsc_executor;
