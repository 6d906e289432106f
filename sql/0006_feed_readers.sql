-- When each reader last read their feed, recorded at most once a day (api/feed/read-feed.ts).
-- Fan-out skips readers whose last read is older than FEED_ACTIVE_DAYS: with a million users most
-- are away at any moment, and writing every post into their feeds is most of fan-out's work.
-- When such a reader returns, their user_feed is rebuilt from follows and posts before the first
-- page. A user with no row (never read since this table exists) counts as active.
CREATE TABLE feed_readers (
  user_id      bigint PRIMARY KEY,
  last_read_at timestamptz NOT NULL
);
