-- How far back each reader's feed has been cut to FEED_MAX_ITEMS: the creation time of the
-- newest item a trim deleted. Posts at or before it may rightly be missing from the feed even
-- when the feed is under the cap again (an unfollow removed rows after the trim, and trimmed
-- items are never brought back, as in any capped timeline). Reconcile (db/reconcile.ts) reads it
-- so that a feed cut and then shrunk is not counted as lost posts. One row per reader ever
-- trimmed; written by the trim itself, in the same statement.
CREATE TABLE feed_trims (
  user_id         bigint PRIMARY KEY,
  trimmed_through timestamptz NOT NULL
);
