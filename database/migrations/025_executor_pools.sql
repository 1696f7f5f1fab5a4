-- Executor pools: a target, or a group for the targets in it and its child groups, may name the pool
-- of executors that runs its actions (docs/executor-pools.md). NULL: inherited, else the default pool.
ALTER TABLE targets ADD COLUMN pool text CHECK (pool ~ '^([a-z]|[a-z][a-z0-9-]{0,30}[a-z0-9])$');
ALTER TABLE target_groups ADD COLUMN pool text CHECK (pool ~ '^([a-z]|[a-z][a-z0-9-]{0,30}[a-z0-9])$');
