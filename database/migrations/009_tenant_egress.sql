-- Destinations a tenant allows http steps and network diagnostics to reach although they are
-- loopback, link-local or private (the egress policy refuses those otherwise). Cloud metadata and
-- the platform's own services stay refused whatever is listed here; the executor enforces it.
CREATE TABLE tenant_egress_allow (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  destination text NOT NULL CHECK (length(destination) BETWEEN 1 AND 300),
  note        text CHECK (length(note) <= 200),
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, destination)
);

-- Admins manage the list through the API (the orchestrator); the executor only reads it.
GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_egress_allow TO opsc_orchestrator;
GRANT SELECT ON tenant_egress_allow TO opsc_executor;
