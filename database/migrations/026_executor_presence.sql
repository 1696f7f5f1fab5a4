-- Executor pools (docs/executor-pools.md): each executor's row says which pool and tenants it serves,
-- and `seen_at` moves every few seconds while it runs, busy or not. An executor with every activity
-- slot taken does not poll Temporal, so Temporal's pollers alone would call its pool quiet.
ALTER TABLE executor_programs ADD COLUMN pool text NOT NULL DEFAULT 'executor';
ALTER TABLE executor_programs ADD COLUMN tenant_ids uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE executor_programs ADD COLUMN seen_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX executor_programs_pool_idx ON executor_programs (pool, seen_at);
