-- Core data model (SPEC §2): providers, services, append-only observations, rule sets,
-- refresh runs with per-source status, risk snapshots and the per-service published pointer.
-- Portable SQL: ISO-8601 text timestamps, no SQLite-only upserts.

CREATE TABLE providers (
  id INTEGER PRIMARY KEY,
  cqc_provider_id TEXT UNIQUE,
  companies_house_number TEXT,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX providers_companies_house ON providers (companies_house_number);
CREATE INDEX providers_name ON providers (name);

CREATE TABLE services (
  id INTEGER PRIMARY KEY,
  ref TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  provider_id INTEGER NOT NULL REFERENCES providers (id),
  cqc_location_id TEXT UNIQUE,
  fhrs_id TEXT,
  service_type TEXT NOT NULL,
  area TEXT NOT NULL,
  capacity INTEGER,
  contract_status TEXT NOT NULL,
  registered_on TEXT,
  deregistered_on TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX services_provider ON services (provider_id);
CREATE INDEX services_fhrs ON services (fhrs_id);
CREATE INDEX services_area_type ON services (area, service_type);

-- Facts, never updated in place. An edit inserts a row with supersedes_id pointing at the old one.
CREATE TABLE observations (
  id INTEGER PRIMARY KEY,
  service_id INTEGER NOT NULL REFERENCES services (id),
  indicator TEXT NOT NULL,
  source TEXT NOT NULL,
  natural_key TEXT NOT NULL,
  observed_on TEXT NOT NULL,
  end_date TEXT,
  value TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}',
  reference TEXT,
  notes TEXT,
  entered_by TEXT,
  recorded_at TEXT NOT NULL,
  supersedes_id INTEGER REFERENCES observations (id),
  UNIQUE (service_id, indicator, natural_key)
);
CREATE INDEX observations_service ON observations (service_id, indicator, observed_on);
CREATE INDEX observations_supersedes ON observations (supersedes_id);
CREATE INDEX observations_recorded ON observations (recorded_at);

CREATE TABLE rule_sets (
  version INTEGER PRIMARY KEY,
  document TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT,
  note TEXT
);

-- kind: 'full' (overnight or npm run refresh), 'entry' (a form/API/import touching some services), 'seed'.
-- status: 'running', 'completed', 'failed'. A run is visible to readers only once published_at is set.
CREATE TABLE refresh_runs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  trigger TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  published_at TEXT,
  status TEXT NOT NULL,
  rule_set_version INTEGER,
  services_computed INTEGER NOT NULL DEFAULT 0,
  services_changed INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  pid INTEGER,
  heartbeat_at TEXT
);
CREATE INDEX refresh_runs_status ON refresh_runs (status, id);

-- Per-source outcome of a run (SPEC §2: read, matched, rejected, unchanged, errors).
CREATE TABLE source_runs (
  run_id INTEGER NOT NULL REFERENCES refresh_runs (id),
  source TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  read_count INTEGER NOT NULL DEFAULT 0,
  matched_count INTEGER NOT NULL DEFAULT 0,
  changed_count INTEGER NOT NULL DEFAULT 0,
  unchanged_count INTEGER NOT NULL DEFAULT 0,
  rejected_count INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  rejects TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (run_id, source)
);

-- A judgement. Written only when it differs from the service's current one, so history grows with
-- changes, not with nights.
CREATE TABLE snapshots (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES refresh_runs (id),
  service_id INTEGER NOT NULL REFERENCES services (id),
  as_of TEXT NOT NULL,
  computed_at TEXT NOT NULL,
  rag TEXT NOT NULL,
  computed_rag TEXT NOT NULL,
  score REAL NOT NULL,
  result TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  rule_set_version INTEGER NOT NULL,
  UNIQUE (run_id, service_id)
);
CREATE INDEX snapshots_service ON snapshots (service_id, id);

-- The published pointer: readers read a service's snapshot only through here.
CREATE TABLE current_snapshots (
  service_id INTEGER PRIMARY KEY REFERENCES services (id),
  snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
  previous_snapshot_id INTEGER REFERENCES snapshots (id),
  run_id INTEGER NOT NULL REFERENCES refresh_runs (id),
  changed_at TEXT NOT NULL,
  rag TEXT NOT NULL,
  score REAL NOT NULL
);
CREATE INDEX current_snapshots_rag ON current_snapshots (rag, score);

-- RAG changes as events: the morning "changed since the last run" list.
CREATE TABLE rag_changes (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES refresh_runs (id),
  service_id INTEGER NOT NULL REFERENCES services (id),
  from_rag TEXT,
  to_rag TEXT NOT NULL,
  at TEXT NOT NULL,
  reasons TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX rag_changes_run ON rag_changes (run_id);
CREATE INDEX rag_changes_service ON rag_changes (service_id, id);
