-- What the page caches are keyed on, shared by every instance. PostgreSQL bumps it from triggers on the tables whose
-- rows people are shown (migrations/postgres/022). SQLite, one machine, reads PRAGMA data_version and the connection's
-- own changes instead (src/data/sqlite/platform.ts), so this row stays 0 there; the table keeps both schemas alike.
CREATE TABLE data_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);
