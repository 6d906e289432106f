-- The follows of readers fan-out writes for. Fan-out used to walk every follower of
-- an author and probe feed_readers for each, to write rows for the active tenth: nine probes in
-- ten were for nothing. This table holds only the follows whose follower is not away, keyed for
-- fan-out, so a batch reads just the rows it inserts.
--
-- A reader is away once the projector's sweep has found them idle longer than FEED_ACTIVE_DAYS
-- (feed_readers.away, set with their rows here deleted, in one transaction). Kept exact by the
-- statements that change its inputs (db/graph.ts, db/feed.ts, db/projections.ts):
--   - a follow adds its row unless the follower is away; an unfollow deletes it;
--   - a reader's read of the day clears `away` and adds back every follow of theirs;
--   - the sweep marks idle readers away and deletes their rows.
-- A reader with no feed_readers row (never read) is not away, as before.
ALTER TABLE feed_readers ADD COLUMN away boolean NOT NULL DEFAULT false;

-- The sweep's queue: readers not yet away, oldest read first.
CREATE INDEX feed_readers_sweep_idx ON feed_readers (last_read_at) WHERE NOT away;

CREATE TABLE active_follows (
  followee_id bigint NOT NULL,
  follower_id bigint NOT NULL,
  PRIMARY KEY (followee_id, follower_id)
);
CREATE INDEX active_follows_follower_idx ON active_follows (follower_id);

-- Existing data: away as fan-out judged it with the default FEED_ACTIVE_DAYS (7); a different
-- setting takes effect with the projector's first sweep (too many kept) or the readers' next
-- reads (an away reader's first read rebuilds their feed, whatever the setting).
UPDATE feed_readers SET away = true WHERE last_read_at < now() - interval '7 days';
INSERT INTO active_follows (followee_id, follower_id)
SELECT f.followee_id, f.follower_id FROM follows f
WHERE NOT EXISTS (SELECT 1 FROM feed_readers r WHERE r.user_id = f.follower_id AND r.away);
