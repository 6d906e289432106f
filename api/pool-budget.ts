import type { Config } from "../core/config.ts";

// How many PostgreSQL connections the processes may hold at most, against max_connections.
// postgres.js opens connections lazily up to each pool's `max`, so under load every pool reaches
// it: with all replicas up, the sum must stay below what PostgreSQL accepts, or the last
// process to grow its pool gets "too many clients" in the middle of a request.
// api/pool-budget.test.ts checks compose.yml and ./dev against it.

/** The api's second pool, for the hot statements with generic plans (api/main.ts): half the main one. */
export function plannedPoolSize(poolSize: number): number {
  return Math.max(2, Math.ceil(poolSize / 2));
}

/** Connections one process of each kind opens at most, for its configuration. */
export function connectionsPerProcess(config: Pick<Config, "DATABASE_POOL_SIZE">): {
  api: number;
  projector: number;
} {
  const pool = config.DATABASE_POOL_SIZE;
  return { api: pool + plannedPoolSize(pool), projector: pool };
}

export interface BudgetLine {
  name: string;
  replicas: number;
  /** Connections each replica may hold. */
  each: number;
}

export interface Budget {
  lines: BudgetLine[];
  total: number;
  /** max_connections less the slots PostgreSQL keeps for superusers. */
  available: number;
  ok: boolean;
  /** One line per process kind and the sum, for a failing test's message. */
  summary: string;
}

/** PostgreSQL's default superuser_reserved_connections: slots our (non-superuser) pools never get. */
export const RESERVED_CONNECTIONS = 3;

export function planConnections(maxConnections: number, lines: BudgetLine[]): Budget {
  const total = lines.reduce((sum, l) => sum + l.replicas * l.each, 0);
  const available = maxConnections - RESERVED_CONNECTIONS;
  const summary = [
    ...lines.map((l) => `${l.name}: ${l.replicas} × ${l.each} = ${l.replicas * l.each}`),
    `total ${total} of ${available} (max_connections ${maxConnections} - ${RESERVED_CONNECTIONS} reserved)`,
  ].join("; ");
  return { lines, total, available, ok: total < available, summary };
}
