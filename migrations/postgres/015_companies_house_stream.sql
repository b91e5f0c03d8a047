-- PostgreSQL twin of migrations/015_companies_house_stream.sql: companies the Companies House source has read at least
-- once, so a night with the stream reads by REST only the companies never seen.
CREATE TABLE companies_house_seen (
  company_number TEXT PRIMARY KEY,
  first_seen_on TEXT NOT NULL
);
