-- PostgreSQL twin of migrations/019_single_sign_on.sql: people who sign in with the council's OpenID Connect provider,
-- linked to one account at one issuer by (oidc_issuer, oidc_subject). Such users have password_hash ''.
ALTER TABLE users ADD COLUMN name TEXT;
ALTER TABLE users ADD COLUMN oidc_issuer TEXT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_identity ON users (oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL;
