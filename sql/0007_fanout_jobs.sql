-- The fan-out lane (projector/fanout-lane.ts): posts by authors with more than
-- FANOUT_INLINE_MAX followers are fanned out here, one batch per turn, instead of inside the
-- PostCreated handler, so one hot author never holds up everyone else's posts. A job lives in
-- PostgreSQL, not Redis: losing Redis must not lose a half-done fan-out. Each batch and the
-- job's advance commit together; jobs take turns by updated_at.
CREATE TABLE fanout_jobs (
  post_id        bigint PRIMARY KEY,
  author_id      bigint NOT NULL,
  after_follower bigint NOT NULL DEFAULT 0,
  rows           bigint NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fanout_jobs_turn_idx ON fanout_jobs (updated_at);
