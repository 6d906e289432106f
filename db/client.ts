import postgres from "postgres";

// The one postgres.js client of a process. Ids (int8) come back as decimal strings, which is
// also their wire form, so they never pass through a lossy JS number.

export type Sql = postgres.Sql<Record<string, never>>;
export type Tx = postgres.TransactionSql<Record<string, never>>;
export type AnySql = Sql | Tx;

export interface DbOptions {
  url: string;
  max?: number;
  /** Called once per statement sent; tests count PostgreSQL round-trips with it. */
  onQuery?: (query: string) => void;
  /**
   * Plan each prepared statement once per connection (plan_cache_mode = force_generic_plan).
   * The read path's statements touch partitioned tables: PostgreSQL's default keeps choosing
   * custom plans for them and re-plans every partition on every execution (1.1 ms of planning
   * for the cold feed's sources, 0.03 ms generic). Their generic plans prune at execution: by a
   * scalar parameter, or row by row in a join on (shard, id); `shard = ANY($n)` prunes nothing.
   */
  genericPlans?: boolean;
  /**
   * No parallel workers (max_parallel_workers_per_gather = 0). Short statements lose by them:
   * a generic plan of the feed's sources gathered two workers for a 15-row index scan and took
   * 7–11 ms instead of 0.5 ms, starting two processes per read.
   */
  serial?: boolean;
  /**
   * PostgreSQL's statement_timeout for every connection of the pool (0 or unset: none). The api
   * sets it so that a stuck query fails instead of pinning a request and a connection forever.
   */
  statementTimeoutMs?: number;
}

export function createSql({
  url,
  max = 10,
  onQuery,
  genericPlans = false,
  serial = false,
  statementTimeoutMs = 0,
}: DbOptions): Sql {
  const connection: Record<string, string | number> = {};
  if (genericPlans) connection.plan_cache_mode = "force_generic_plan";
  if (serial) connection.max_parallel_workers_per_gather = "0"; // a string: postgres.js drops falsy values
  if (statementTimeoutMs > 0) connection.statement_timeout = statementTimeoutMs;
  return postgres(url, {
    max,
    // An idle connection goes after 30 s, so a burst's extra connections do not sit on
    // max_connections; every connection is replaced after 30-60 min (spread, so the pool never
    // reconnects at once), which bounds what a long-lived backend accumulates.
    idle_timeout: 30,
    max_lifetime: 60 * (30 + Math.random() * 30),
    connect_timeout: 10,
    // postgres.js's default backoff grows to 20 s after a few refused connects, and queries
    // queue behind it: after a 2 s restart some waited 18 s (measured). Half a second at most
    // costs a refused connect attempt per connection, which is nothing.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 0.5),
    prepare: true,
    onnotice: () => {},
    ...(Object.keys(connection).length > 0 ? { connection } : {}),
    ...(onQuery ? { debug: (_conn: number, query: string) => onQuery(query) } : {}),
  }) as Sql;
}

/** True when PostgreSQL answers within the timeout (readiness probes). */
export async function pingSql(sql: Sql, timeoutMs = 1000): Promise<boolean> {
  const timeout = new Promise<false>((r) => setTimeout(() => r(false), timeoutMs));
  const ping = sql`SELECT 1`.then(
    () => true,
    () => false,
  );
  return Promise.race([ping, timeout]);
}

/** Client connections PostgreSQL holds right now (every pool of every process counted). */
export async function countClientConnections(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend'`;
  return row?.n ?? 0;
}
