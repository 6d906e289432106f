-- The seeder's bookkeeping (perf/seed.ts). A run is resumable phase by phase: a phase that
-- committed is never redone, one that started and did not finish is cleaned up and redone.
CREATE TABLE seed_runs (
  phase       text PRIMARY KEY,
  params      jsonb NOT NULL,
  state       text NOT NULL CHECK (state IN ('started', 'done')),
  rows        bigint NOT NULL DEFAULT 0,
  seconds     double precision NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Indexes and keys the seeder dropped before loading, with their definitions, so that any later
-- run (or the same one, on its way out) recreates exactly them: none is ever left missing.
CREATE TABLE seed_dropped_indexes (
  name        text PRIMARY KEY,
  table_name  text NOT NULL,
  -- 'constraint': ALTER TABLE … ADD CONSTRAINT name def; 'index': the CREATE INDEX statement.
  kind        text NOT NULL CHECK (kind IN ('constraint', 'index')),
  definition  text NOT NULL
);
