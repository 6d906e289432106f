-- Direct uploads handed out by POST /uploads and neither attached nor swept yet: the per-user
-- quota of pending uploads counts these rows. Attaching deletes its row in the same
-- transaction; the projector's maintenance deletes rows past the uploads' day.
CREATE TABLE pending_uploads (
  key        text PRIMARY KEY,
  user_id    bigint NOT NULL,
  bytes      integer NOT NULL CHECK (bytes > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pending_uploads_user ON pending_uploads (user_id);
CREATE INDEX pending_uploads_created ON pending_uploads (created_at);
