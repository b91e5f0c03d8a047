-- PostgreSQL twin of migrations/011_judgement_rechecks.sql: when each service's judgement could next change with
-- nothing new recorded (src/domain/recheck.ts). One row per service, replaced only by a later judgement.
CREATE TABLE judgement_rechecks (
  service_id INTEGER PRIMARY KEY REFERENCES services (id),
  recheck_on TEXT,
  rule_set_version INTEGER NOT NULL,
  run_id INTEGER NOT NULL REFERENCES refresh_runs (id),
  computed_at TEXT NOT NULL
);
CREATE INDEX judgement_rechecks_due ON judgement_rechecks (recheck_on);
