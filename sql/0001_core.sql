-- The core schema: write model, read model and the mechanisms around them.
-- Large tables are hash-partitioned on their distribution column and every primary key includes
-- it, so a later move to Citus or to several hosts changes configuration, not code
-- (docs/architecture.md §3).

-- Ids: 41 bits of milliseconds since 2025-01-01 | 12 bits logical shard | 10 bits sequence.
-- core/ids.ts implements the same layout; its tests check that both agree.
CREATE SEQUENCE id_seq;

CREATE FUNCTION next_id(shard integer) RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT ((floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint - 1735689600000) << 22)
       | ((shard & 4095)::bigint << 10)
       | (nextval('id_seq') % 1024);
$$;

CREATE FUNCTION id_shard(id bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT ((id >> 10) & 4095)::integer $$;

-- Post timestamps are taken from their ids, so ordering by (created_at, id) and by id agree.
CREATE FUNCTION id_time(id bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT to_timestamp(((id >> 22) + 1735689600000) / 1000.0) $$;

-- Users are few enough (millions) for one table; their ids embed their shard.
CREATE TABLE users (
  id           bigint PRIMARY KEY,
  handle       text NOT NULL CHECK (handle ~ '^[a-z0-9_]{1,30}$'),
  display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  avatar_key   text,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_handle_key ON users (handle);

-- Profile counters, kept by the projector from events (deduplicated through processed_events).
CREATE TABLE user_stats (
  user_id         bigint PRIMARY KEY,
  followers_count bigint NOT NULL DEFAULT 0,
  following_count bigint NOT NULL DEFAULT 0,
  posts_count     bigint NOT NULL DEFAULT 0,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
-- Pull (celebrity) authors are found by follower count.
CREATE INDEX user_stats_followers_idx ON user_stats (followers_count DESC);

-- Posts live on their author's logical shard; shard is the distribution column.
CREATE TABLE posts (
  shard      integer NOT NULL,
  id         bigint NOT NULL,
  author_id  bigint NOT NULL,
  text       text NOT NULL,
  image_key  text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (shard, id)
) PARTITION BY HASH (shard);
CREATE TABLE posts_p00 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE posts_p01 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE posts_p02 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE posts_p03 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE posts_p04 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE posts_p05 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE posts_p06 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE posts_p07 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE posts_p08 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE posts_p09 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE posts_p10 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE posts_p11 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE posts_p12 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE posts_p13 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE posts_p14 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE posts_p15 PARTITION OF posts FOR VALUES WITH (MODULUS 16, REMAINDER 15);
CREATE INDEX posts_author_idx ON posts (shard, author_id, created_at DESC, id DESC);

-- Like counts, colocated with posts.
CREATE TABLE post_stats (
  shard           integer NOT NULL,
  post_id         bigint NOT NULL,
  like_count      bigint NOT NULL DEFAULT 0,
  post_created_at timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (shard, post_id)
) PARTITION BY HASH (shard);
CREATE TABLE post_stats_p00 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE post_stats_p01 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE post_stats_p02 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE post_stats_p03 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE post_stats_p04 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE post_stats_p05 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE post_stats_p06 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE post_stats_p07 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE post_stats_p08 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE post_stats_p09 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE post_stats_p10 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE post_stats_p11 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE post_stats_p12 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE post_stats_p13 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE post_stats_p14 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE post_stats_p15 PARTITION OF post_stats FOR VALUES WITH (MODULUS 16, REMAINDER 15);
CREATE INDEX post_stats_popular_idx ON post_stats (post_created_at DESC, like_count DESC);

CREATE TABLE follows (
  follower_id bigint NOT NULL,
  followee_id bigint NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (follower_id, followee_id),
  CHECK (follower_id <> followee_id)
) PARTITION BY HASH (follower_id);
CREATE TABLE follows_p00 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE follows_p01 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE follows_p02 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE follows_p03 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE follows_p04 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE follows_p05 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE follows_p06 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE follows_p07 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE follows_p08 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE follows_p09 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE follows_p10 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE follows_p11 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE follows_p12 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE follows_p13 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE follows_p14 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE follows_p15 PARTITION OF follows FOR VALUES WITH (MODULUS 16, REMAINDER 15);
-- Fan-out walks an author's followers.
CREATE INDEX follows_followee_idx ON follows (followee_id, follower_id);

CREATE TABLE likes (
  user_id    bigint NOT NULL,
  post_id    bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, post_id)
) PARTITION BY HASH (user_id);
CREATE TABLE likes_p00 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE likes_p01 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE likes_p02 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE likes_p03 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE likes_p04 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE likes_p05 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE likes_p06 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE likes_p07 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE likes_p08 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE likes_p09 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE likes_p10 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE likes_p11 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE likes_p12 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE likes_p13 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE likes_p14 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE likes_p15 PARTITION OF likes FOR VALUES WITH (MODULUS 16, REMAINDER 15);
CREATE INDEX likes_post_idx ON likes (post_id);

-- The read model: one row per (reader, post). The primary key serves the keyset scan
-- (user_id, created_at DESC, post_id DESC) as an index-only scan, and makes fan-out idempotent
-- (a post's created_at never changes, so the key is unique per (user, post)).
CREATE TABLE user_feed (
  user_id    bigint NOT NULL,
  post_id    bigint NOT NULL,
  author_id  bigint NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, created_at, post_id) INCLUDE (author_id)
) PARTITION BY HASH (user_id);
CREATE TABLE user_feed_p00 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE user_feed_p01 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE user_feed_p02 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE user_feed_p03 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE user_feed_p04 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE user_feed_p05 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE user_feed_p06 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE user_feed_p07 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE user_feed_p08 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE user_feed_p09 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE user_feed_p10 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE user_feed_p11 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE user_feed_p12 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE user_feed_p13 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE user_feed_p14 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE user_feed_p15 PARTITION OF user_feed FOR VALUES WITH (MODULUS 16, REMAINDER 15);
-- Unfollow removes one author's posts from one reader's feed in one delete.
CREATE INDEX user_feed_author_idx ON user_feed (user_id, author_id);

-- Stored responses of commands sent with an Idempotency-Key, scoped to user and route.
CREATE TABLE idempotency_keys (
  user_id     bigint NOT NULL,
  route       text NOT NULL,
  key         text NOT NULL,
  fingerprint text NOT NULL,
  status      integer NOT NULL,
  response    jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (user_id, route, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

-- Events committed with the rows they describe; the api XADDs them right after commit and the
-- projector's sweeper publishes whatever was left unpublished.
CREATE TABLE outbox (
  id           bigint PRIMARY KEY,
  stream       text NOT NULL,
  type         text NOT NULL,
  event        jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL;
CREATE INDEX outbox_created_idx ON outbox (created_at);

-- Which events each consumer group has applied: handlers record the event id in the same
-- transaction as their effect, so a redelivered event changes nothing.
CREATE TABLE processed_events (
  group_name   text NOT NULL,
  event_id     bigint NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_name, event_id)
);
CREATE INDEX processed_events_age_idx ON processed_events (processed_at);

-- Per group and stream, the id below which every entry is acknowledged. A lost consumer group
-- (NOGROUP) is recreated from here, not from '$'.
CREATE TABLE stream_offsets (
  group_name text NOT NULL,
  stream     text NOT NULL,
  acked_id   text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_name, stream)
);
