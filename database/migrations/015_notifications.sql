-- Notifications (docs/notifications.md): a tenant's channels (generic webhook, Slack-compatible
-- incoming webhook, e-mail over SMTP), which events each channel hears, and every delivery.
-- A channel's secret (signing secret, Slack URL, SMTP password) is sealed for the vault like a
-- credential's: the orchestrator writes ciphertext it cannot open, the executor alone opens it.
CREATE TABLE notification_channels (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  kind        text NOT NULL CHECK (kind IN ('webhook', 'slack', 'email')),
  -- Non-secret settings (webhook URL; SMTP host, port, TLS mode, user name, from, recipients, CA).
  config      jsonb NOT NULL DEFAULT '{}',
  fingerprint text NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

CREATE TABLE notification_channel_secrets (
  channel_id uuid PRIMARY KEY REFERENCES notification_channels (id) ON DELETE CASCADE,
  key_id     text NOT NULL,
  sealed     jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Which events a channel hears. template_id NULL: the tenant's default, for every job. A row with a
-- template id overrides the default for jobs of that template: once any channel subscribes for a
-- template, jobs of that template notify exactly the template's subscriptions. (Templates are
-- another part of issue 19: the id is kept as text, no foreign key, until they are merged.)
CREATE TABLE notification_subscriptions (
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  channel_id  uuid NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
  event       text NOT NULL CHECK (event IN ('approval_needed', 'awaiting_decision', 'job_failed', 'rolled_back', 'finished')),
  template_id text CHECK (length(template_id) BETWEEN 1 AND 100),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX notification_subscriptions_key
  ON notification_subscriptions (tenant_id, channel_id, event, coalesce(template_id, ''));

-- The channels a job's event goes to; the orchestrator (which starts deliveries) and the executor
-- (which refuses one to a channel not subscribed) ask the same question here.
CREATE FUNCTION notification_channels_for(p_tenant uuid, p_template text, p_event text)
RETURNS SETOF uuid LANGUAGE sql STABLE AS $$
  SELECT s.channel_id FROM notification_subscriptions s
   WHERE s.tenant_id = p_tenant AND s.event = p_event
     AND s.template_id IS NOT DISTINCT FROM (
       CASE WHEN p_template IS NOT NULL AND EXISTS (
              SELECT 1 FROM notification_subscriptions o WHERE o.tenant_id = p_tenant AND o.template_id = p_template)
            THEN p_template END)
$$;

-- A test notification an admin asked for: the executor sends one only for a row here (Temporal is
-- no authority), once.
CREATE TABLE notification_tests (
  id           uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  channel_id   uuid NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
  requested_by text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- One row per (notification, channel): written by the executor as it tries, so a job's page shows
-- what was delivered, what is being retried and what failed for good (errors hold no secret).
CREATE TABLE notification_deliveries (
  event_id     text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 300),
  channel_id   uuid NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  job_id       text REFERENCES jobs (id) ON DELETE CASCADE,
  test_id      uuid REFERENCES notification_tests (id) ON DELETE CASCADE,
  event        text NOT NULL,
  status       text NOT NULL CHECK (status IN ('sending', 'retrying', 'delivered', 'failed')),
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text CHECK (length(last_error) <= 1000),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  PRIMARY KEY (event_id, channel_id)
);
CREATE INDEX notification_deliveries_job_idx ON notification_deliveries (job_id) WHERE job_id IS NOT NULL;

-- How many times a job entered each status: the executor delivers "approval needed" or "awaiting
-- decision" number n only if the job's record says it entered that status n times or more, so a
-- workflow started straight in Temporal cannot announce what did not happen.
ALTER TABLE jobs ADD COLUMN status_entries jsonb NOT NULL DEFAULT '{}';
CREATE FUNCTION jobs_count_status_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
    NEW.status_entries := jsonb_set(coalesce(NEW.status_entries, '{}'), ARRAY[NEW.status],
      to_jsonb(coalesce((NEW.status_entries ->> NEW.status)::int, 0) + 1));
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER jobs_status_entries BEFORE INSERT OR UPDATE OF status ON jobs
  FOR EACH ROW EXECUTE FUNCTION jobs_count_status_entries();

-- Orchestrator: channels' settings and subscriptions read/write; secrets write-only (as credentials).
GRANT SELECT, INSERT, UPDATE, DELETE ON notification_channels, notification_subscriptions, notification_tests
  TO opsc_orchestrator;
GRANT INSERT, DELETE ON notification_channel_secrets TO opsc_orchestrator;
GRANT SELECT (channel_id, key_id, updated_at) ON notification_channel_secrets TO opsc_orchestrator;
GRANT SELECT ON notification_deliveries TO opsc_orchestrator;
GRANT EXECUTE ON FUNCTION notification_channels_for(uuid, text, text) TO opsc_orchestrator, opsc_executor;

-- Executor: reads channels and their sealed secrets, re-wraps them on key rotation, records deliveries.
GRANT SELECT ON notification_channels, notification_subscriptions, notification_tests TO opsc_executor;
GRANT SELECT, UPDATE ON notification_channel_secrets TO opsc_executor;
GRANT SELECT, INSERT, UPDATE ON notification_deliveries TO opsc_executor;
GRANT SELECT (name, outcome, error_message, status_entries) ON jobs TO opsc_executor;
