-- Users made by the seeder (perf/seed.ts): the only ones the load-test signer serves. A flag and
-- not a handle pattern, since real sign-ins make handles like s_jones (from s-jones).
ALTER TABLE users ADD COLUMN seeded boolean NOT NULL DEFAULT false;
CREATE INDEX users_seeded_id ON users (id) WHERE seeded;
-- A database seeded before the flag existed: its seed's users, known by the seeder's own record
-- of a finished users phase and by the seeder's handles (s_<n>). A database never seeded keeps
-- every user unflagged.
UPDATE users SET seeded = true
WHERE handle ~ '^s_[0-9]+$'
  AND EXISTS (SELECT 1 FROM seed_runs WHERE phase = 'users' AND state = 'done');
