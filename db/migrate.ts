import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Sql } from "./client.ts";

// Forward-only migrations: sql/NNNN_name.sql, applied in order, each in its own transaction.
// Every transaction first takes one advisory lock, so two processes starting together never
// migrate at once; the second then sees the first's work and skips it.

const LOCK_KEY = 7_312_950_014; // any constant; it names "the feed migration" for pg_advisory_xact_lock
export const SQL_DIR = join(import.meta.dir, "..", "sql");

export interface Migration {
  version: string;
  name: string;
  file: string;
}

export async function listMigrations(dir = SQL_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return files.map((f) => ({ version: f.slice(0, 4), name: f.slice(5, -4), file: join(dir, f) }));
}

export async function migrate(
  sql: Sql,
  dir = SQL_DIR,
  log: (m: string) => void = () => {},
): Promise<string[]> {
  // Under the lock too: two processes creating the table at once would collide on its type.
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    text PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`;
  });
  const applied: string[] = [];
  for (const m of await listMigrations(dir)) {
    const text = await Bun.file(m.file).text();
    const checksum = createHash("sha256").update(text).digest("hex");
    const done = await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
      const [row] = await tx<
        { checksum: string }[]
      >`SELECT checksum FROM schema_migrations WHERE version = ${m.version}`;
      if (row) {
        if (row.checksum !== checksum)
          throw new Error(`migration ${m.version}_${m.name} changed after it was applied`);
        return false;
      }
      await tx.unsafe(text);
      await tx`INSERT INTO schema_migrations (version, name, checksum) VALUES (${m.version}, ${m.name}, ${checksum})`;
      return true;
    });
    if (done) {
      applied.push(m.version);
      log(`applied ${m.version}_${m.name}`);
    }
  }
  return applied;
}
