-- Schedules: a template run on a Temporal Schedule (docs/schedules.md). This table is the record;
-- the Temporal schedule (id `opsc-schedule-<tenant>-<id>`) is made from it and re-made when it is
-- missing or differs. Each action starts a small workflow whose activity runs the template as the
-- schedule's owner (their role at that moment) with the saved parameters.
CREATE TABLE schedules (
  id                uuid PRIMARY KEY,
  tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description       text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
  template_id       uuid NOT NULL REFERENCES templates (id),
  -- null: the template's latest version at each action.
  template_version  integer CHECK (template_version >= 1),
  -- The parameters' values, validated through the template's typed parameters when saved (and again at each run).
  params            jsonb NOT NULL DEFAULT '{}',
  -- Whose role runs it. No cascade: a user who owns a schedule is disabled, not deleted.
  owner_id          uuid NOT NULL REFERENCES users (id),
  cron_expressions  text[] NOT NULL DEFAULT '{}',
  interval_seconds  integer CHECK (interval_seconds >= 1),
  time_zone         text NOT NULL DEFAULT 'UTC' CHECK (length(time_zone) BETWEEN 1 AND 100),
  overlap           text NOT NULL DEFAULT 'skip'
                    CHECK (overlap IN ('skip', 'buffer_one', 'buffer_all', 'allow_all', 'cancel_other', 'terminate_other')),
  catchup_window_seconds integer NOT NULL DEFAULT 300 CHECK (catchup_window_seconds BETWEEN 10 AND 31536000),
  paused            boolean NOT NULL DEFAULT false,
  note              text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
  created_by        text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at        timestamptz,
  CHECK (cardinality(cron_expressions) > 0 OR interval_seconds IS NOT NULL)
);
CREATE UNIQUE INDEX schedules_tenant_name_idx ON schedules (tenant_id, lower(name)) WHERE deleted_at IS NULL;

-- Each action Temporal took (its workflow id): the job it started, or why none was. One row per
-- action, so a retried start finds what the first attempt did.
CREATE TABLE schedule_runs (
  action_id    text PRIMARY KEY CHECK (length(action_id) <= 300),
  schedule_id  uuid NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  scheduled_at timestamptz,
  started_at   timestamptz NOT NULL DEFAULT now(),
  outcome      text NOT NULL CHECK (outcome IN ('started', 'refused')),
  job_id       text REFERENCES jobs (id) ON DELETE SET NULL,
  reason       text CHECK (length(reason) <= 1000)
);
CREATE INDEX schedule_runs_schedule_idx ON schedule_runs (schedule_id, started_at DESC);
CREATE INDEX jobs_origin_schedule_idx ON jobs ((origin->>'scheduleId'), created_at) WHERE origin->>'kind' = 'schedule';

GRANT SELECT, INSERT ON schedules, schedule_runs TO opsc_orchestrator;
GRANT UPDATE (name, description, template_version, params, owner_id, cron_expressions, interval_seconds, time_zone,
  overlap, catchup_window_seconds, paused, note, updated_at, deleted_at) ON schedules TO opsc_orchestrator;
GRANT DELETE ON schedule_runs TO opsc_orchestrator;
