-- Artifacts: the files file-copy sends, uploaded through the API and kept per tenant in PostgreSQL,
-- where every executor can read them. A row is immutable (no role may UPDATE it): a new upload under
-- a name is a new version, and a plan pins the SHA-256 of the version it validated against.
CREATE TABLE artifacts (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size_bytes  bigint NOT NULL CHECK (size_bytes >= 0),
  uploaded_by text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name, sha256)
);
CREATE INDEX artifacts_newest ON artifacts (tenant_id, name, created_at DESC);

-- The content in chunks of at most 1 MiB, so neither side ever holds a whole file in memory. An
-- upload writes its chunks and then its row in one transaction: the check is deferred to the commit.
CREATE TABLE artifact_chunks (
  artifact_id uuid NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  seq         integer NOT NULL CHECK (seq >= 0),
  data        bytea NOT NULL CHECK (length(data) BETWEEN 1 AND 1048576),
  PRIMARY KEY (artifact_id, seq)
);

GRANT SELECT, INSERT, DELETE ON artifacts, artifact_chunks TO opsc_orchestrator;
-- The executor reads the version a job's plan pins (its tenant through the job's row) and its content.
GRANT SELECT (id, tenant_id, name, sha256, size_bytes) ON artifacts TO opsc_executor;
GRANT SELECT ON artifact_chunks TO opsc_executor;
