-- Companies the Companies House source has read at least once (by the REST API or from the streaming API), so a
-- night with the stream reads by REST only the companies never seen. The stream's timepoint is kept in source_state
-- ('companies_house', 'stream_timepoint'), written in the same transaction as the observations of its events.
CREATE TABLE companies_house_seen (
  company_number TEXT PRIMARY KEY,
  first_seen_on TEXT NOT NULL
);
