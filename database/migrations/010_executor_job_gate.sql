-- The executor runs only what an approved job asks for (activities/src/execution/job-gate.ts): it
-- reads the job's plan, its resolved targets and whether a person's approval of its plan hash was
-- recorded. It reads nothing else of a decision (not who, not the comment) and changes none.
GRANT SELECT (plan, plan_hash, resolved_targets) ON jobs TO opsc_executor;
GRANT SELECT (job_id, action, status, plan_hash, role) ON job_decisions TO opsc_executor;
