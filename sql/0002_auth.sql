-- Sign-in: external identities and refresh tokens.

-- One row per (provider, subject): the same person signing in again finds the same user.
CREATE TABLE user_identities (
  provider   text NOT NULL,
  subject    text NOT NULL,
  user_id    bigint NOT NULL REFERENCES users (id),
  email      text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, subject)
);
CREATE INDEX user_identities_user_idx ON user_identities (user_id);

-- Opaque refresh tokens, stored as SHA-256. Each rotation spends one token (used_at) and issues
-- its child in the same family; presenting a spent token revokes the whole family.
CREATE TABLE refresh_tokens (
  id                  bigserial PRIMARY KEY,
  token_hash          bytea NOT NULL UNIQUE,
  user_id             bigint NOT NULL REFERENCES users (id),
  family_id           uuid NOT NULL,
  parent_id           bigint, -- the token this one replaced (no FK: whole families are purged at once)
  created_at          timestamptz NOT NULL DEFAULT now(),
  used_at             timestamptz,
  revoked_at          timestamptz,
  idle_expires_at     timestamptz NOT NULL,
  absolute_expires_at timestamptz NOT NULL
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expiry_idx ON refresh_tokens (absolute_expires_at);
