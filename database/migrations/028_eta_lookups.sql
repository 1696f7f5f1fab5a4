-- The ETA (docs/web.md) learns the platform's dispatch cost from the tenant's last finished jobs and
-- a tool's durations from its latest runs on any target: both read newest first, through these.
CREATE INDEX jobs_tenant_finished_idx ON jobs (tenant_id, finished_at DESC) WHERE finished_at IS NOT NULL;
CREATE INDEX step_results_tool_finished_idx ON step_results (tool_key, finished_at DESC) WHERE tool_key IS NOT NULL;
