-- What the page caches are keyed on, shared by every instance (src/data/postgres/platform.ts): moved by every
-- statement that changes rows people are shown, and by a run's publication. Sessions, token use, staged judgements,
-- audit and log tables do not move it.
CREATE TABLE data_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);

CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE data_version SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER services_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON services
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER providers_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON providers
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER observations_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON observations
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER current_snapshots_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON current_snapshots
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER rag_overrides_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON rag_overrides
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER compliance_actions_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON compliance_actions
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER dps_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON dps
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER dps_lots_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON dps_lots
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER dps_memberships_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON dps_memberships
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER membership_eligibility_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON membership_eligibility
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER awards_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON awards
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER rule_sets_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON rule_sets
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER service_follows_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON service_follows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER tasks_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON tasks
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER settings_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON settings
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER users_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER inbox_files_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON inbox_files
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER source_state_moves_data_version AFTER INSERT OR UPDATE OR DELETE ON source_state
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER refresh_runs_publication_moves_data_version AFTER UPDATE OF published_at ON refresh_runs
  FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
