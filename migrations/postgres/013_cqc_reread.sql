-- PostgreSQL twin of migrations/013_cqc_reread.sql: forget where the CQC changes feed window ended, so the next run
-- reads every council location again and heals observations stored by the earlier reading.
DELETE FROM source_state WHERE source = 'cqc' AND key IN ('changes_window_end', 'loaded_location_ids');
