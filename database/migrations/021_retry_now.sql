-- "Retry failed targets now" (docs/retry.md): a third answer to a job's mid-run question. The API
-- records which step it re-runs and which re-run of that step it is; the workflow refuses a decision
-- that names another, and the executor's job gate runs re-run n of a step on a target only for such a
-- decision the workflow confirmed, and only where that step failed.
ALTER TABLE job_decisions DROP CONSTRAINT job_decisions_choice_check;
ALTER TABLE job_decisions ADD CONSTRAINT job_decisions_choice_check CHECK (choice IN ('continue', 'rollback', 'retry'));
ALTER TABLE job_decisions ADD COLUMN retry_step_id text, ADD COLUMN rerun integer CHECK (rerun BETWEEN 1 AND 100);
ALTER TABLE job_decisions ADD CONSTRAINT job_decisions_retry_names_step
  CHECK ((choice IS NOT DISTINCT FROM 'retry') = (retry_step_id IS NOT NULL AND rerun IS NOT NULL));

-- What was decided stays as it was recorded (now with the re-run it names and a template run's
-- pre-approval), and a decision only moves forward.
CREATE OR REPLACE FUNCTION job_decisions_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.id, NEW.job_id, NEW.tenant_id, NEW.action, NEW.user_id, NEW.actor, NEW.role, NEW.plan_hash, NEW.comment, NEW.mode, NEW.choice, NEW.source_ip, NEW.created_at, NEW.preapproval_id, NEW.retry_step_id, NEW.rerun)
     IS DISTINCT FROM
     (OLD.id, OLD.job_id, OLD.tenant_id, OLD.action, OLD.user_id, OLD.actor, OLD.role, OLD.plan_hash, OLD.comment, OLD.mode, OLD.choice, OLD.source_ip, OLD.created_at, OLD.preapproval_id, OLD.retry_step_id, OLD.rerun) THEN
    RAISE EXCEPTION 'a recorded decision is not edited';
  END IF;
  IF NOT ((OLD.status = 'recorded' AND NEW.status IN ('confirmed', 'refused'))
       OR (OLD.status = 'confirmed' AND NEW.status IN ('applied', 'refused'))) THEN
    RAISE EXCEPTION 'a decision cannot go from % to %', OLD.status, NEW.status;
  END IF;
  RETURN NEW;
END
$$;

-- A re-run is its own execution: its result replaces the earlier run's (its facts are what an undo
-- uses), and its output lines say which run they are of. 0: the step's first run.
ALTER TABLE step_results ADD COLUMN rerun integer NOT NULL DEFAULT 0;
ALTER TABLE output_lines ADD COLUMN rerun integer NOT NULL DEFAULT 0;

GRANT SELECT (choice, retry_step_id, rerun) ON job_decisions TO opsc_executor;
