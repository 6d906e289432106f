-- Every fan-out row paid for a second index on user_feed: (user_id, author_id), for unfollow's
-- delete of one author's posts from one reader's feed. Fan-out rows land on random readers, so
-- each row dirtied a leaf page of each index, and after a checkpoint wrote each page whole into
-- the WAL. Measured on the 1M seed (20 authors' posts, 3 000–5 000 followers each, after a
-- CHECKPOINT): 28–36 µs and 12.5 KB of WAL per row with it, 15–16 µs and 6.5 KB without.
--
-- Unfollow's delete now walks the reader's rows by the primary key, whose INCLUDE (author_id)
-- answers the filter without the heap: a feed is trimmed to about FEED_MAX_ITEMS rows, so that
-- is at most a few thousand index entries (0.05 ms for the seed's readers, the same as before).
DROP INDEX IF EXISTS user_feed_author_idx;
