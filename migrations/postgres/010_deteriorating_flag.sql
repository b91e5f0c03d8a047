-- PostgreSQL twin of migrations/010_deteriorating_flag.sql: the "deteriorating" flag (SPEC §3) as a 0/1 column, set
-- from the judgement's JSON (flags.deteriorating true, or 1, as SQLite's json_extract reads it).
ALTER TABLE snapshots ADD COLUMN deteriorating INTEGER NOT NULL DEFAULT 0;
UPDATE snapshots SET deteriorating = 1 WHERE (result::jsonb #>> '{flags,deteriorating}') IN ('true', '1');

ALTER TABLE current_snapshots ADD COLUMN deteriorating INTEGER NOT NULL DEFAULT 0;
UPDATE current_snapshots
  SET deteriorating = (SELECT sn.deteriorating FROM snapshots sn WHERE sn.id = current_snapshots.snapshot_id);
CREATE INDEX current_snapshots_deteriorating ON current_snapshots (deteriorating) WHERE deteriorating = 1;
