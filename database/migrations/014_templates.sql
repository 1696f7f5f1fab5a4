-- Saved plans (templates): a named plan with typed parameters, run by filling them in. A template is
-- a name and its versions; a version is never edited (any change is a new version), so what a
-- person pre-approved stays what they saw. See docs/templates.md.
CREATE TABLE templates (
  id          uuid PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- A deleted template keeps its versions (its jobs name them) and frees its name.
  deleted_at  timestamptz
);
CREATE UNIQUE INDEX templates_tenant_name_idx ON templates (tenant_id, lower(name)) WHERE deleted_at IS NULL;

CREATE TABLE template_versions (
  id            uuid PRIMARY KEY,
  template_id   uuid NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
  tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  version       integer NOT NULL CHECK (version >= 1),
  -- The plan draft with `{{params.<name>}}` where a parameter goes (a step parameter or a step's targets).
  plan          jsonb NOT NULL,
  -- The typed parameters, derived from the tools' parameter schemas.
  parameters    jsonb NOT NULL,
  run_role      text NOT NULL CHECK (run_role IN ('operator', 'approver', 'admin')),
  -- auto: a run needs approval when its plan changes something; required: every run does.
  approval_mode text NOT NULL CHECK (approval_mode IN ('auto', 'required')),
  -- The risk of the plan as validated when the version was saved (read | change | destructive).
  risk          text NOT NULL CHECK (risk IN ('read', 'change', 'destructive')),
  -- SHA-256 of the canonical JSON of { plan, parameters }: what a pre-approval binds to.
  shape_hash    text NOT NULL CHECK (shape_hash ~ '^[0-9a-f]{64}$'),
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (template_id, version)
);

CREATE FUNCTION template_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'a template version is not edited; save a new version';
END
$$;
CREATE TRIGGER template_versions_immutable BEFORE UPDATE ON template_versions
  FOR EACH ROW EXECUTE FUNCTION template_versions_immutable();

-- A person's approval, in advance, of every run of one version: bound to the version's shape hash
-- as the approver saw it. A new version (any edit) or the template's deletion voids it.
CREATE TABLE template_preapprovals (
  id          uuid PRIMARY KEY,
  version_id  uuid NOT NULL REFERENCES template_versions (id) ON DELETE CASCADE,
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  shape_hash  text NOT NULL CHECK (shape_hash ~ '^[0-9a-f]{64}$'),
  -- The approver as authenticated. No foreign key: a user deleted later keeps their history.
  user_id     uuid NOT NULL,
  approved_by text NOT NULL,
  role        text NOT NULL CHECK (role IN ('approver', 'admin')),
  comment     text CHECK (length(comment) <= 2000),
  created_at  timestamptz NOT NULL DEFAULT now(),
  voided_at   timestamptz,
  void_reason text CHECK (length(void_reason) <= 500)
);
CREATE UNIQUE INDEX template_preapprovals_live_idx ON template_preapprovals (version_id) WHERE voided_at IS NULL;

-- A pre-approval is voided once and otherwise never changes.
CREATE FUNCTION template_preapprovals_void_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.id, NEW.version_id, NEW.tenant_id, NEW.shape_hash, NEW.user_id, NEW.approved_by, NEW.role, NEW.comment, NEW.created_at)
     IS DISTINCT FROM
     (OLD.id, OLD.version_id, OLD.tenant_id, OLD.shape_hash, OLD.user_id, OLD.approved_by, OLD.role, OLD.comment, OLD.created_at)
     OR OLD.voided_at IS NOT NULL THEN
    RAISE EXCEPTION 'a pre-approval is only ever voided';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER template_preapprovals_void_only BEFORE UPDATE ON template_preapprovals
  FOR EACH ROW EXECUTE FUNCTION template_preapprovals_void_only();

-- A run of a pre-approved version is approved by a decision the API records in the pre-approver's
-- name, pointing at the pre-approval; the workflow confirms it like any approval, and the executor's
-- job gate counts it only for a job recorded as a run of that version (jobs.origin), while the
-- pre-approval it names holds (not voided before the decision, same tenant, same approver, the
-- version's shape still the one approved).
ALTER TABLE job_decisions ADD COLUMN preapproval_id uuid REFERENCES template_preapprovals (id);

GRANT SELECT, INSERT ON templates, template_versions, template_preapprovals TO opsc_orchestrator;
GRANT UPDATE (deleted_at, description) ON templates TO opsc_orchestrator;
GRANT UPDATE (voided_at, void_reason) ON template_preapprovals TO opsc_orchestrator;
-- The executor's job gate reads what it needs to check a pre-approval, nothing more.
GRANT SELECT (id, template_id, version, tenant_id, plan, parameters) ON template_versions TO opsc_executor;
GRANT SELECT (id, version_id, tenant_id, shape_hash, approved_by, voided_at) ON template_preapprovals TO opsc_executor;
GRANT SELECT (preapproval_id, created_at) ON job_decisions TO opsc_executor;
-- Which template version a job runs (migration 012), to bind a pre-approval to the jobs of that version only.
GRANT SELECT (origin) ON jobs TO opsc_executor;
