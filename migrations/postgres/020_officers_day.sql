-- PostgreSQL twin of migrations/020_officers_day.sql: the officer's and assessor's day (issue 15), with its data steps.

-- When the service's RAG last changed (the pointer's changed_at moves with every new judgement, even of one colour).
-- Seed runs judge past dates: their changes happened on the date judged, not on the day the demo was seeded.
ALTER TABLE current_snapshots ADD COLUMN rag_since TEXT;
UPDATE current_snapshots SET rag_since = (
  SELECT CASE WHEN r.kind = 'seed' THEN sn.as_of || 'T00:00:00.000Z' ELSE rc.at END
  FROM rag_changes rc
  JOIN refresh_runs r ON r.id = rc.run_id
  LEFT JOIN snapshots sn ON sn.run_id = rc.run_id AND sn.service_id = rc.service_id
  WHERE rc.service_id = current_snapshots.service_id
  ORDER BY rc.id DESC LIMIT 1
);
UPDATE current_snapshots SET rag_since = changed_at WHERE rag_since IS NULL;
UPDATE rag_changes SET at = (
  SELECT sn.as_of || 'T00:00:00.000Z' FROM snapshots sn
  WHERE sn.run_id = rag_changes.run_id AND sn.service_id = rag_changes.service_id
) WHERE run_id IN (SELECT id FROM refresh_runs WHERE kind = 'seed')
  AND EXISTS (SELECT 1 FROM snapshots sn WHERE sn.run_id = rag_changes.run_id AND sn.service_id = rag_changes.service_id);
CREATE INDEX current_snapshots_rag_since ON current_snapshots (rag_since);
CREATE INDEX rag_changes_at ON rag_changes (at);

-- What started a run, in words people use: scheduled, manual, rule_set, entry, override, seed.
ALTER TABLE refresh_runs ADD COLUMN cause TEXT;
UPDATE refresh_runs SET cause = CASE
  WHEN kind = 'seed' THEN 'seed'
  WHEN kind = 'entry' AND trigger LIKE 'override %' THEN 'override'
  WHEN kind = 'entry' THEN 'entry'
  WHEN trigger = 'schedule' THEN 'scheduled'
  WHEN trigger LIKE 'rule set%' THEN 'rule_set'
  ELSE 'manual'
END;

-- A compliance action's reference, and the indicator fact it is (an open default notice is indicator 6's fact, a
-- suspension of new placements an embargo: entered once).
ALTER TABLE compliance_actions ADD COLUMN reference TEXT;
ALTER TABLE compliance_actions ADD COLUMN observation_id INTEGER REFERENCES observations (id);

-- Existing actions: the fact recorded beside the intelligence already entered for the same service, kind and date
-- is linked to it; the others are recorded now.
UPDATE compliance_actions SET observation_id = (
  SELECT o.id FROM observations o
  WHERE o.service_id = compliance_actions.service_id
    AND o.indicator = CASE compliance_actions.kind WHEN 'default_notice' THEN 'default_notice' ELSE 'embargo' END
    AND o.observed_on = compliance_actions.opened_on
    AND NOT EXISTS (SELECT 1 FROM observations later WHERE later.supersedes_id = o.id)
  ORDER BY o.id LIMIT 1
) WHERE kind IN ('default_notice', 'suspension_of_new_placements');
INSERT INTO observations (service_id, indicator, source, natural_key, observed_on, end_date, value, detail, reference,
  notes, entered_by, recorded_at)
SELECT a.service_id,
  CASE a.kind WHEN 'default_notice' THEN 'default_notice' ELSE 'embargo' END,
  'compliance_action', 'action:' || a.id, a.opened_on, a.closed_on,
  CASE a.kind WHEN 'default_notice' THEN 'default_notice' ELSE 'embargo' END,
  '{}', NULL, NULL, a.created_by, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
FROM compliance_actions a
WHERE a.kind IN ('default_notice', 'suspension_of_new_placements') AND a.observation_id IS NULL;
UPDATE compliance_actions SET observation_id = (
  SELECT o.id FROM observations o WHERE o.natural_key = 'action:' || compliance_actions.id
    AND o.service_id = compliance_actions.service_id
) WHERE kind IN ('default_notice', 'suspension_of_new_placements') AND observation_id IS NULL;

-- Overrides: the reason everyone sees, and a note for compliance and admin only.
ALTER TABLE rag_overrides ADD COLUMN internal_note TEXT;
