-- CQC's current rating, report history, manager fields and rating words are read anew (SPEC §5, issue 13). Stored
-- observations made by the earlier reading heal on the next run: forgetting where the CQC changes feed window ended
-- makes that run read every council location again, and the CQC step records whatever now reads differently under
-- the same key as a correction superseding the old row (history flagged timeline-only, a named manager beside an
-- absent date, unknown key question words). Nothing is deleted; a rerun after that adds nothing.
DELETE FROM source_state WHERE source = 'cqc' AND key IN ('changes_window_end', 'loaded_location_ids');
