-- How many services were registered when a full run judged them. The nightly run judges only the services whose
-- judgement could have changed (services_computed); the rest keep theirs, and the run log says how many.
-- NULL for entry runs and for runs before this column.
ALTER TABLE refresh_runs ADD COLUMN services_total INTEGER;
