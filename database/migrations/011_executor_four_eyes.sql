-- The executor's job gate applies the four-eyes rule itself: an approval by the job's requester
-- does not count where the tenant requires a second person (a workflow of someone else's under the
-- job's id would not refuse it). For that it reads who asked and who approved, nothing more.
GRANT SELECT (requested_by) ON jobs TO opsc_executor;
GRANT SELECT (actor) ON job_decisions TO opsc_executor;
