-- Following services, and the morning digest sent after each overnight run (SPEC §7).

-- A compliance officer (or admin) follows the services whose overnight changes they want by email.
CREATE TABLE service_follows (
  user_id INTEGER NOT NULL REFERENCES users (id),
  service_id INTEGER NOT NULL REFERENCES services (id),
  created_at TEXT NOT NULL,
  PRIMARY KEY (user_id, service_id)
);
CREATE INDEX service_follows_service ON service_follows (service_id);

-- One digest per officer per overnight run: the UNIQUE key makes sending idempotent.
-- status: 'sending' (claimed), 'sent', 'failed' (may be retried for the same run), 'empty' (nothing to report).
CREATE TABLE digest_log (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES refresh_runs (id),
  user_id INTEGER NOT NULL REFERENCES users (id),
  recipient TEXT NOT NULL,
  status TEXT NOT NULL,
  subject TEXT,
  item_count INTEGER NOT NULL DEFAULT 0,
  message_id TEXT,
  error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (run_id, user_id)
);
CREATE INDEX digest_log_user ON digest_log (user_id, run_id);
