import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Sql } from "./client.ts";

// Forward-only migrations: sql/NNNN_name.sql, applied in order, each in its own transaction.
// Every transaction first takes one advisory lock, so two processes starting together never
// migrate at once; the second then sees the first's work and skips it. An applied file may not
// change, except in its whole-line comments (checksumOf).

const LOCK_KEY = 7_312_950_014; // any constant; it names "the feed migration" for pg_advisory_xact_lock
export const SQL_DIR = join(import.meta.dir, "..", "sql");

export interface Migration {
  version: string;
  name: string;
  file: string;
}

/**
 * What a migration's checksum covers: its lines without whole-line comments and blank lines, so
 * rewording a comment in an applied file is no change, and any edit to a statement is.
 */
export function checksumOf(text: string): string {
  const code = text
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line !== "" && !/^\s*--/.test(line));
  return sha256(code.join("\n"));
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

// Databases migrated before checksums left comments out hold each file's whole-text hash. Such a
// hash is accepted, and replaced, when it is the current file's or, for the files whose comments
// were reworded since, the file's as it was then.
const WHOLE_FILE_HASHES: Record<string, string> = {
  "0001": "d25419e801c64a8315fe3cc1e665f462e20462e27f7c2fb61fd1c9281ecac152",
  "0002": "7f8026a983ed1c266fbf351f2639b9b2252b425b4d0093206058baa0e1c9c262",
  "0003": "9e3a0b0ae13603ef9a64585d264689584326fcd149f2944b2fcabeaf0a2ac8de",
  "0011": "f8d8ecfc040c9e9f02a8d6b9207ddbfd0fd3819ec5277327dd116cd818e1a5ce",
  "0012": "faed24afb12b26ef8dd37b91369eb64fc115d3dfa61fa3eb626ee668f497a554",
  "0013": "79c178bd7d64bc0c9d0962dcdc85921cd3497d784d18039022af35f6bbf759b8",
};

const olderHashOf = (version: string, text: string, stored: string) =>
  stored === sha256(text) || stored === WHOLE_FILE_HASHES[version];

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
    const checksum = checksumOf(text);
    const done = await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
      const [row] = await tx<
        { checksum: string }[]
      >`SELECT checksum FROM schema_migrations WHERE version = ${m.version}`;
      if (row) {
        if (row.checksum === checksum) return false;
        if (!olderHashOf(m.version, text, row.checksum))
          throw new Error(`migration ${m.version}_${m.name} changed after it was applied`);
        await tx`UPDATE schema_migrations SET checksum = ${checksum} WHERE version = ${m.version}`;
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
