-- Single sign-on (issue 18): people who sign in with the council's OpenID Connect provider.
-- A user is linked to one account at one issuer by (oidc_issuer, oidc_subject); `name` is the display name the
-- provider gives. Such users have no password: password_hash stays '' (no Argon2 hash ever matches it).
ALTER TABLE users ADD COLUMN name TEXT;
ALTER TABLE users ADD COLUMN oidc_issuer TEXT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_identity ON users (oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL;
