-- DPS frameworks, lots, memberships, the eligibility gate and package awards (SPEC §4).

-- gates: JSON validated by gatesSchema (src/domain/eligibility.ts).
CREATE TABLE dps (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT,
  gates TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- tier: 'tier1' (zone lead), 'tier2' (borough-wide), 'specialist', 'reserve'.
-- zone: display name ("South and Central"); areas: JSON list of the service areas the zone covers
-- (empty: the zone name is the area, or with no zone the whole borough).
CREATE TABLE dps_lots (
  id INTEGER PRIMARY KEY,
  dps_id INTEGER NOT NULL REFERENCES dps (id),
  name TEXT NOT NULL,
  tier TEXT NOT NULL,
  zone TEXT,
  areas TEXT NOT NULL DEFAULT '[]',
  service_type TEXT NOT NULL,
  specialism TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (dps_id, name)
);

-- status: 'admitted', 'suspended', 'removed'; status_changed_on and reason describe the latest change.
CREATE TABLE dps_memberships (
  id INTEGER PRIMARY KEY,
  lot_id INTEGER NOT NULL REFERENCES dps_lots (id),
  service_id INTEGER NOT NULL REFERENCES services (id),
  status TEXT NOT NULL,
  admitted_on TEXT NOT NULL,
  status_changed_on TEXT NOT NULL,
  reason TEXT,
  UNIQUE (lot_id, service_id)
);
CREATE INDEX dps_memberships_service ON dps_memberships (service_id);

-- The gate verdict now, one row per membership, rewritten at every evaluation.
CREATE TABLE membership_eligibility (
  membership_id INTEGER PRIMARY KEY REFERENCES dps_memberships (id),
  eligible INTEGER NOT NULL,
  failing_gates TEXT NOT NULL DEFAULT '[]',
  evaluated_at TEXT NOT NULL,
  run_id INTEGER REFERENCES refresh_runs (id)
);

-- Eligibility lost (eligible = 0) or regained (eligible = 1): the morning list.
CREATE TABLE eligibility_events (
  id INTEGER PRIMARY KEY,
  membership_id INTEGER NOT NULL REFERENCES dps_memberships (id),
  run_id INTEGER REFERENCES refresh_runs (id),
  at TEXT NOT NULL,
  eligible INTEGER NOT NULL,
  failing_gates TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX eligibility_events_run ON eligibility_events (run_id);
CREATE INDEX eligibility_events_membership ON eligibility_events (membership_id, id);

-- Work for compliance: kind 'review_membership' is opened when a membership loses eligibility.
CREATE TABLE tasks (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  service_id INTEGER NOT NULL REFERENCES services (id),
  membership_id INTEGER REFERENCES dps_memberships (id),
  opened_at TEXT NOT NULL,
  closed_at TEXT,
  closed_by TEXT,
  note TEXT
);
CREATE INDEX tasks_open ON tasks (closed_at, kind);
CREATE INDEX tasks_membership ON tasks (membership_id);

-- A new package of care awarded under a lot. contract_status is the service's at the time of the award,
-- so the off-contract share of a past period does not move when a service's contract changes later.
CREATE TABLE awards (
  id INTEGER PRIMARY KEY,
  dps_id INTEGER NOT NULL REFERENCES dps (id),
  lot_id INTEGER NOT NULL REFERENCES dps_lots (id),
  service_id INTEGER NOT NULL REFERENCES services (id),
  weekly_hours REAL NOT NULL,
  start_date TEXT NOT NULL,
  reference TEXT NOT NULL,
  contract_status TEXT NOT NULL,
  created_by TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (dps_id, reference)
);
CREATE INDEX awards_service ON awards (service_id, created_at);
CREATE INDEX awards_created ON awards (created_at);
