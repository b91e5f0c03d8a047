-- PostgreSQL twin of migrations/004_source_state.sql: what a source remembers between refresh runs (SPEC §6).
CREATE TABLE source_state (
  source TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  run_id INTEGER REFERENCES refresh_runs (id),
  PRIMARY KEY (source, key)
);
