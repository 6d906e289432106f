-- Stream partitions are hash-tagged for Redis Cluster: feed:events:N became feed:events:{N}
-- (core/redis-keys.ts), so that a partition's stream lives in one slot whatever else it is
-- used with. The outbox and the recorded stream positions follow the new names. A projector
-- of this version then finds no consumer group on the new streams, creates each group at the
-- position recorded for the old stream and republishes the outbox rows since then (the path a
-- lost group takes): events still waiting in the old streams are handled, none twice in effect.
-- The old streams are left in Redis, unread; delete them once the new projector has started.
UPDATE outbox SET stream = regexp_replace(stream, '^feed:events:([0-9]+)$', 'feed:events:{\1}')
WHERE stream ~ '^feed:events:[0-9]+$';
UPDATE stream_offsets SET stream = regexp_replace(stream, '^feed:events:([0-9]+)$', 'feed:events:{\1}')
WHERE stream ~ '^feed:events:[0-9]+$';
