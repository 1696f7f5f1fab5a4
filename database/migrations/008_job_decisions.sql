-- Decisions people make on jobs (approve, reject, pause, resume, cancel, decide), written by the API
-- with the actor it authenticated, in the same transaction as their audit entry, before the workflow
-- hears of them. An update carries only the row's id; the workflow acts once an activity has
-- confirmed the row and used it up. Anyone who reaches Temporal can send an update, so a decision
-- that is not here, or is here for another job or action, or was used already, changes nothing.
CREATE TABLE job_decisions (
  id           uuid PRIMARY KEY,
  job_id       text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  action       text NOT NULL CHECK (action IN ('approve', 'reject', 'pause', 'resume', 'cancel', 'decide')),
  -- The user as authenticated. No foreign key: a user deleted later keeps their history.
  user_id      uuid NOT NULL,
  actor        text NOT NULL,
  role         text NOT NULL CHECK (role IN ('viewer', 'operator', 'approver', 'admin')),
  -- approve: the hash the approver was shown; otherwise the job's.
  plan_hash    text NOT NULL CHECK (plan_hash ~ '^[0-9a-f]{64}$'),
  comment      text CHECK (length(comment) <= 2000),
  -- cancel only.
  mode         text CHECK (mode IN ('finish', 'interrupt')),
  -- decide only, and always there.
  choice       text CHECK (choice IN ('continue', 'rollback')),
  source_ip    text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- recorded (by the API) -> confirmed (used up by the workflow) -> applied | refused; or
  -- recorded -> refused, when the workflow never took it up (the API says why).
  status       text NOT NULL DEFAULT 'recorded' CHECK (status IN ('recorded', 'confirmed', 'applied', 'refused')),
  -- The workflow run and activity that used it: a retry of that activity is answered again, a replay is not.
  confirmed_by text,
  confirmed_at timestamptz,
  decided_at   timestamptz,
  refusal      text,
  CONSTRAINT job_decisions_mode_of_cancel CHECK (mode IS NULL OR action = 'cancel'),
  CONSTRAINT job_decisions_choice_of_decide CHECK ((action = 'decide') = (choice IS NOT NULL))
);
CREATE INDEX job_decisions_job_idx ON job_decisions (job_id, created_at);

-- What was decided stays as it was recorded, and a decision only moves forward.
CREATE FUNCTION job_decisions_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.id, NEW.job_id, NEW.tenant_id, NEW.action, NEW.user_id, NEW.actor, NEW.role, NEW.plan_hash, NEW.comment, NEW.mode, NEW.choice, NEW.source_ip, NEW.created_at)
     IS DISTINCT FROM
     (OLD.id, OLD.job_id, OLD.tenant_id, OLD.action, OLD.user_id, OLD.actor, OLD.role, OLD.plan_hash, OLD.comment, OLD.mode, OLD.choice, OLD.source_ip, OLD.created_at) THEN
    RAISE EXCEPTION 'a recorded decision is not edited';
  END IF;
  IF NOT ((OLD.status = 'recorded' AND NEW.status IN ('confirmed', 'refused'))
       OR (OLD.status = 'confirmed' AND NEW.status IN ('applied', 'refused'))) THEN
    RAISE EXCEPTION 'a decision cannot go from % to %', OLD.status, NEW.status;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER job_decisions_forward_only BEFORE UPDATE ON job_decisions
  FOR EACH ROW EXECUTE FUNCTION job_decisions_forward_only();

-- The orchestrator (API and its worker) records decisions and moves them on; it neither edits what
-- was decided nor deletes a decision (a job's deletion takes its decisions with it). The executor
-- has no business here.
GRANT SELECT, INSERT ON job_decisions TO opsc_orchestrator;
GRANT UPDATE (status, confirmed_by, confirmed_at, decided_at, refusal) ON job_decisions TO opsc_orchestrator;
