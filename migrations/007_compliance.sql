-- The compliance workflow (SPEC §3 overrides, §7 compliance actions): manual RAG overrides and the escalation ladder.
-- Portable SQL: ISO-8601 text dates and timestamps. Rows are never deleted; revoking or closing stamps them.

-- A manual override of a service's overall RAG. It applies up to and including expires_on, unless revoked earlier.
-- Setting a new override revokes the service's earlier active one, so at most one applies at a time.
CREATE TABLE rag_overrides (
  id INTEGER PRIMARY KEY,
  service_id INTEGER NOT NULL REFERENCES services (id),
  rag TEXT NOT NULL CHECK (rag IN ('red', 'amber', 'green')),
  reason TEXT NOT NULL,
  expires_on TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_at TEXT NOT NULL,
  revoked_at TEXT,
  revoked_by TEXT,
  revoke_reason TEXT
);
CREATE INDEX rag_overrides_active ON rag_overrides (revoked_at, expires_on);
CREATE INDEX rag_overrides_service ON rag_overrides (service_id, id);

-- A step on the escalation ladder taken against a service. due_on is optional (a termination has none);
-- closed_on and outcome are set together when the action is closed.
CREATE TABLE compliance_actions (
  id INTEGER PRIMARY KEY,
  service_id INTEGER NOT NULL REFERENCES services (id),
  kind TEXT NOT NULL CHECK (kind IN (
    'notice_of_concern', 'action_plan', 'improvement_plan', 'remedial_notice', 'default_notice',
    'special_measures_improvement_plan', 'suspension_of_new_placements', 'termination'
  )),
  owner TEXT NOT NULL,
  opened_on TEXT NOT NULL,
  due_on TEXT,
  closed_on TEXT,
  outcome TEXT,
  notes TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  closed_by TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX compliance_actions_service ON compliance_actions (service_id, id);
CREATE INDEX compliance_actions_open ON compliance_actions (closed_on, due_on);
CREATE INDEX compliance_actions_kind ON compliance_actions (kind, service_id, opened_on);
