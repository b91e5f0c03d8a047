-- The "deteriorating" flag (SPEC §3) as a column, so the dashboard's early-warning count and its filter read an index
-- instead of every current judgement's JSON (at 30,000 services that count stalled the server each time a run
-- published). Set from the judgement when a snapshot is written, and copied to the pointer when it moves.
ALTER TABLE snapshots ADD COLUMN deteriorating INTEGER NOT NULL DEFAULT 0;
UPDATE snapshots SET deteriorating = 1 WHERE json_extract(result, '$.flags.deteriorating') = 1;

ALTER TABLE current_snapshots ADD COLUMN deteriorating INTEGER NOT NULL DEFAULT 0;
UPDATE current_snapshots
  SET deteriorating = (SELECT sn.deteriorating FROM snapshots sn WHERE sn.id = current_snapshots.snapshot_id);
CREATE INDEX current_snapshots_deteriorating ON current_snapshots (deteriorating) WHERE deteriorating = 1;
