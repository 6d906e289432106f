// 64-bit time-ordered ids that embed a logical shard (the Instagram scheme):
//   41 bits milliseconds since ID_EPOCH_MS | 12 bits logical shard | 10 bits sequence
// 63 bits in all, so ids stay positive in a signed PostgreSQL bigint until 2094. The same layout
// is implemented by the SQL function next_id() (sql/0001_*.sql); ids.test.ts checks they agree.

export const ID_EPOCH_MS = 1_735_689_600_000; // 2025-01-01T00:00:00Z
export const SHARD_BITS = 12;
export const SEQUENCE_BITS = 10;
export const LOGICAL_SHARDS = 1 << SHARD_BITS;
const SHARD_MASK = BigInt(LOGICAL_SHARDS - 1);
const SEQ_MASK = BigInt((1 << SEQUENCE_BITS) - 1);

/** The wire form of an id: a decimal string, because JSON numbers lose precision past 2^53. */
export const ID_PATTERN = /^[1-9][0-9]{0,18}$/;

export function composeId(ms: number, shard: number, sequence: number): bigint {
  if (!Number.isInteger(shard) || shard < 0 || shard >= LOGICAL_SHARDS)
    throw new RangeError(`shard out of range: ${shard}`);
  const t = BigInt(ms - ID_EPOCH_MS);
  if (t < 0n) throw new RangeError("timestamp before the id epoch");
  return (
    (t << BigInt(SHARD_BITS + SEQUENCE_BITS)) |
    (BigInt(shard) << BigInt(SEQUENCE_BITS)) |
    (BigInt(sequence) & SEQ_MASK)
  );
}

export function shardOf(id: bigint | string): number {
  return Number((BigInt(id) >> BigInt(SEQUENCE_BITS)) & SHARD_MASK);
}

export function timestampOf(id: bigint | string): number {
  return Number(BigInt(id) >> BigInt(SHARD_BITS + SEQUENCE_BITS)) + ID_EPOCH_MS;
}

/** Parses a wire id; null when it is not a positive 63-bit decimal integer. */
export function parseId(value: string): bigint | null {
  if (!ID_PATTERN.test(value)) return null;
  const n = BigInt(value);
  return n > 0x7fff_ffff_ffff_ffffn ? null : n;
}

/** A random logical shard for a new user; posts then live on their author's shard. */
export function randomShard(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0]! % LOGICAL_SHARDS;
}

/** Which stream partition carries the events of an actor: chosen by the actor's shard. */
export function streamPartitionFor(actorId: bigint | string, partitions: number): number {
  return shardOf(actorId) % partitions;
}
