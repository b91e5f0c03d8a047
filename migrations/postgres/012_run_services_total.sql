-- PostgreSQL twin of migrations/012_run_services_total.sql: how many services were registered when a full run judged
-- them. NULL for entry runs and for runs before this column.
ALTER TABLE refresh_runs ADD COLUMN services_total INTEGER;
