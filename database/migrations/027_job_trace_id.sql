-- The trace a job was submitted in (docs/tracing.md): the W3C trace id, 32 hex digits, of the API
-- request that created it, so the monitor can link the job to its trace. Null when tracing is off.
ALTER TABLE jobs ADD COLUMN trace_id text CHECK (trace_id ~ '^[0-9a-f]{32}$');
