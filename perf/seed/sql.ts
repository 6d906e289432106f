import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Sql } from "../../db/client.ts";

// The seeder's SQL (perf/seed.ts): bookkeeping of phases, dropping and recreating indexes around
// bulk loads, COPY, and cleanup of a phase that did not finish.

export type PhaseState = "started" | "done";
export interface PhaseRow {
  phase: string;
  params: Record<string, unknown>;
  state: PhaseState;
  rows: string;
  seconds: number;
}

export async function phases(sql: Sql): Promise<Map<string, PhaseRow>> {
  const rows = await sql<PhaseRow[]>`SELECT phase, params, state, rows, seconds FROM seed_runs`;
  return new Map(rows.map((r) => [r.phase, r]));
}

export async function markPhase(
  sql: Sql,
  phase: string,
  params: object,
  state: PhaseState,
  rows = 0,
  seconds = 0,
): Promise<void> {
  await sql`
    INSERT INTO seed_runs (phase, params, state, rows, seconds)
    VALUES (${phase}, ${sql.json(params as never)}, ${state}, ${rows}, ${seconds})
    ON CONFLICT (phase) DO UPDATE SET params = EXCLUDED.params, state = EXCLUDED.state,
      rows = EXCLUDED.rows, seconds = EXCLUDED.seconds, updated_at = now()`;
}

export async function forgetPhases(sql: Sql): Promise<void> {
  await sql`DELETE FROM seed_runs`;
}

/**
 * Records, then drops, the keys and indexes of `tables` (parents of partitioned tables: the
 * partitions' indexes go with them). Returns how many were dropped. Recorded first, in the same
 * transaction, so that a crash can never lose a definition.
 */
export async function dropIndexes(sql: Sql, tables: string[]): Promise<number> {
  return sql.begin(async (tx) => {
    let n = 0;
    for (const table of tables) {
      const constraints = await tx<{ name: string; def: string }[]>`
        SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid = ${table}::regclass AND contype IN ('p', 'u')`;
      const indexes = await tx<{ name: string; def: string }[]>`
        SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = ${table}::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`;
      for (const c of constraints) {
        await tx`INSERT INTO seed_dropped_indexes (name, table_name, kind, definition)
                 VALUES (${c.name}, ${table}, 'constraint', ${c.def}) ON CONFLICT DO NOTHING`;
        await tx`ALTER TABLE ${tx(table)} DROP CONSTRAINT ${tx(c.name)}`;
        n++;
      }
      for (const i of indexes) {
        // A partitioned table's index reads "ON ONLY parent": replayed as is, it would create an
        // invalid index on the parent alone. Without ONLY it is built on every partition.
        const def = i.def.replace(/ ON ONLY /, " ON ");
        await tx`INSERT INTO seed_dropped_indexes (name, table_name, kind, definition)
                 VALUES (${i.name}, ${table}, 'index', ${def}) ON CONFLICT DO NOTHING`;
        await tx`DROP INDEX ${tx(i.name)}`;
        n++;
      }
    }
    return n;
  });
}

/**
 * Recreates every recorded key and index, each in its own transaction together with the removal
 * of its record: after a crash each is either fully built or still recorded, never half-built.
 */
export async function restoreIndexes(
  sql: Sql,
  onEach: (name: string, seconds: number) => void,
): Promise<number> {
  const todo = await sql<{ name: string; table_name: string; kind: string; definition: string }[]>`
    SELECT name, table_name, kind, definition FROM seed_dropped_indexes ORDER BY table_name, kind, name`;
  for (const row of todo) {
    const t0 = performance.now();
    await sql.begin(async (tx) => {
      // Bulk index builds: more memory and both cores, for this transaction only.
      await tx`SET LOCAL maintenance_work_mem = '1GB'`;
      await tx`SET LOCAL max_parallel_maintenance_workers = 2`;
      // The definitions are PostgreSQL's own text (pg_get_constraintdef / pg_get_indexdef),
      // recorded above: DDL cannot take parameters, so they are replayed as text.
      await tx.unsafe(
        row.kind === "constraint"
          ? `ALTER TABLE ${ident(row.table_name)} ADD CONSTRAINT ${ident(row.name)} ${row.definition}`
          : row.definition,
      );
      await tx`DELETE FROM seed_dropped_indexes WHERE name = ${row.name}`;
    });
    onEach(row.name, (performance.now() - t0) / 1000);
  }
  return todo.length;
}

/** Indexes on `tables` (and their partitions) that are not valid: must be none after a load. */
export async function invalidIndexes(sql: Sql, tables: string[]): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_class t ON t.oid = i.indrelid
    LEFT JOIN pg_inherits h ON h.inhrelid = t.oid
    LEFT JOIN pg_class parent ON parent.oid = h.inhparent
    WHERE NOT i.indisvalid AND (t.relname = ANY(${tables}) OR parent.relname = ANY(${tables}))
    ORDER BY 1`;
  return rows.map((r) => r.name);
}

/** How many indexes `tables` and their partitions have (before and after must match). */
export async function indexCount(sql: Sql, tables: string[]): Promise<number> {
  const [r] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_index i
    JOIN pg_class t ON t.oid = i.indrelid
    LEFT JOIN pg_inherits h ON h.inhrelid = t.oid
    LEFT JOIN pg_class parent ON parent.oid = h.inhparent
    WHERE t.relname = ANY(${tables}) OR parent.relname = ANY(${tables})`;
  return r!.n;
}

/** COPY text-format chunks (tab-separated lines) into table(columns). */
export async function copyInto(
  sql: Sql,
  table: string,
  columns: string[],
  chunks: AsyncIterable<string> | Iterable<string>,
): Promise<void> {
  const writable = await sql`COPY ${sql(table)} (${sql(columns)}) FROM STDIN`.writable();
  await pipeline(Readable.from(chunks), writable);
}

/** Removes the rows a phase may have written before it was interrupted (ids in [lo, hi]). */
export async function deleteRange(
  sql: Sql,
  table: string,
  column: string,
  lo: bigint,
  hi: bigint,
): Promise<number> {
  const r =
    await sql`DELETE FROM ${sql(table)} WHERE ${sql(column)} BETWEEN ${lo.toString()} AND ${hi.toString()}`;
  return r.count;
}

/** post_stats rows of posts by seeded authors (post ids are not one range; their authors are). */
export async function deleteSeededPostStats(sql: Sql, lo: bigint, hi: bigint): Promise<number> {
  const r = await sql`
    DELETE FROM post_stats ps USING posts p
    WHERE p.shard = ps.shard AND p.id = ps.post_id AND p.author_id BETWEEN ${lo.toString()} AND ${hi.toString()}`;
  return r.count;
}

/** active_follows (sql/0013) for the seeded followers in [lo, hi] who are not away. */
export async function fillActiveFollows(sql: Sql, lo: bigint, hi: bigint): Promise<number> {
  const r = await sql`
    INSERT INTO active_follows (followee_id, follower_id)
    SELECT f.followee_id, f.follower_id FROM follows f
    WHERE f.follower_id BETWEEN ${lo.toString()} AND ${hi.toString()}
      AND NOT EXISTS (SELECT 1 FROM feed_readers r WHERE r.user_id = f.follower_id AND r.away)
    ON CONFLICT DO NOTHING`;
  return r.count;
}

/** The raw COPY baseline: rows/s into a plain (logged), index-free two-bigint table. */
export async function rawCopyRate(sql: Sql, lines: string[], repeat: number): Promise<number> {
  await sql`DROP TABLE IF EXISTS seed_copy_baseline`;
  await sql`CREATE TABLE seed_copy_baseline (a bigint, b bigint)`;
  try {
    const chunk = lines.join("");
    const t0 = performance.now();
    await copyInto(
      sql,
      "seed_copy_baseline",
      ["a", "b"],
      (function* () {
        for (let i = 0; i < repeat; i++) yield chunk;
      })(),
    );
    return (lines.length * repeat) / ((performance.now() - t0) / 1000);
  } finally {
    await sql`DROP TABLE IF EXISTS seed_copy_baseline`;
  }
}

/** Vacuum-analyze after a bulk load so the planner sees the new sizes. */
export async function analyze(sql: Sql, tables: string[]): Promise<void> {
  for (const t of tables) await sql`ANALYZE ${sql(t)}`;
}

function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unexpected identifier ${name}`);
  return `"${name}"`;
}
