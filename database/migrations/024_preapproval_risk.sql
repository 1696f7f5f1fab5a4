-- A template's pre-approval covers runs no riskier than the version it approved: the executor's job
-- gate compares the job's risk (and what its steps' actions say) with the version's risk.
GRANT SELECT (risk) ON jobs TO opsc_executor;
GRANT SELECT (risk) ON template_versions TO opsc_executor;
