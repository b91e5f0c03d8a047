-- What the inbox left alone, and files whose import keeps failing (issue 14).
--
-- inbox_skipped: every entry of the inbox folder a run did not read, and why: code is one of being_written (modified
--   in the last seconds, or its size changed while looked at), future_mtime, hidden, lock_file, not_csv, symlink,
--   not_regular (a pipe, socket or device), folder. Shown in the run log and on the morning page.
-- inbox_failures: a file whose import failed (threw: not row rejects) in a run, by name; the same file (same size and
--   modification time) failing again is moved to rejected/ with the reason, so it never blocks a later night. A
--   success, or the file being set aside, removes its row.
CREATE TABLE inbox_skipped (
  id INTEGER PRIMARY KEY,
  run_id INTEGER REFERENCES refresh_runs (id),
  name TEXT NOT NULL,
  code TEXT NOT NULL,
  reason TEXT NOT NULL,
  seen_at TEXT NOT NULL
);
CREATE INDEX inbox_skipped_run ON inbox_skipped (run_id);

CREATE TABLE inbox_failures (
  name TEXT PRIMARY KEY,
  size_bytes INTEGER NOT NULL,
  mtime_ms REAL NOT NULL,
  failures INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  last_failed_at TEXT NOT NULL
);
