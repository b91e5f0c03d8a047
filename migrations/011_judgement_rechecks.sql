-- When each service's judgement could next change with nothing new recorded (src/domain/recheck.ts), so the overnight
-- refresh recomputes only the services that are due (SPEC §6) instead of all of them.
--
-- One row per service, written in the publish transaction of the run that computed the judgement (full or entry), and
-- replaced only by a judgement computed later. recheck_on: ISO date, null when nothing date-dependent remains (only a
-- new observation, override or rule set changes the judgement). rule_set_version: the rule set it was judged under (a
-- different active version makes the service due). computed_at: ISO timestamp of the judgement.
CREATE TABLE judgement_rechecks (
  service_id INTEGER PRIMARY KEY REFERENCES services (id),
  recheck_on TEXT,
  rule_set_version INTEGER NOT NULL,
  run_id INTEGER NOT NULL REFERENCES refresh_runs (id),
  computed_at TEXT NOT NULL
);
CREATE INDEX judgement_rechecks_due ON judgement_rechecks (recheck_on);
