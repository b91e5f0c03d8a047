-- What a source remembers between refresh runs (SPEC §6), e.g. where the CQC changes feed window ended and which
-- council locations have had their first full load. One small row per (source, key); value is text (JSON when
-- structured). Written only after the source's observations are stored, so a crash re-reads rather than skips.
CREATE TABLE source_state (
  source TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  run_id INTEGER REFERENCES refresh_runs (id),
  PRIMARY KEY (source, key)
);
