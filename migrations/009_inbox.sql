-- Council files read from the inbox folder by the overnight run (SPEC §6), one row per file received.
--
-- content_hash: SHA-256 (hex) of the file's bytes; null when the file was refused before it was read (too large).
-- status: 'imported' (every row good), 'partly_rejected' (good rows imported, some rejected), 'rejected' (nothing
--   imported: unreadable, not a council file, or every row rejected), 'duplicate' (the same content was imported
--   before: skipped, duplicate_of names that file).
-- rows_*: data rows read, rows that added or changed something, distinct rows rejected, rows already known.
-- rejects: JSON list of {rowNumber, column?, reason}, the reject report (capped); file_error: a whole-file problem.
-- moved_to: where the file goes, relative to the inbox, decided in the same transaction as its rows; moved_at stays
--   null until the file is there, so a run that dies between the two is finished by the next one.
CREATE TABLE inbox_files (
  id INTEGER PRIMARY KEY,
  content_hash TEXT,
  name TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  kind TEXT,
  received_at TEXT NOT NULL,
  rows_read INTEGER NOT NULL DEFAULT 0,
  rows_imported INTEGER NOT NULL DEFAULT 0,
  rows_rejected INTEGER NOT NULL DEFAULT 0,
  rows_duplicate INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  file_error TEXT,
  rejects TEXT NOT NULL DEFAULT '[]',
  duplicate_of INTEGER REFERENCES inbox_files (id),
  run_id INTEGER REFERENCES refresh_runs (id),
  moved_to TEXT,
  moved_at TEXT
);
CREATE INDEX inbox_files_content ON inbox_files (content_hash);
CREATE INDEX inbox_files_received ON inbox_files (received_at);
CREATE INDEX inbox_files_run ON inbox_files (run_id);
