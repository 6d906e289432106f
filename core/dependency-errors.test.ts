import { describe, expect, test } from "bun:test";
import { dependencyOf, isPostgresUnreachable, knownAddresses } from "./dependency-errors.ts";

// Shapes as the drivers throw them (recorded from postgres.js 3.4 and ioredis 6 against a
// closed port, a terminated backend and a stopped Redis).
const pg = (code: string, message = "x") =>
  Object.assign(new Error(message), { name: "PostgresError", code });
const sock = (code: string, message: string) => Object.assign(new Error(message), { code });

describe("dependencyOf", () => {
  test("PostgreSQL going away or not there yet", () => {
    expect(dependencyOf(sock("CONNECTION_CLOSED", "write CONNECTION_CLOSED 127.0.0.1:5432"))).toBe(
      "PostgreSQL",
    );
    expect(dependencyOf(sock("CONNECT_TIMEOUT", "connect timeout"))).toBe("PostgreSQL");
    for (const state of ["57P01", "57P02", "57P03", "08006", "57014", "53300"])
      expect(dependencyOf(pg(state))).toBe("PostgreSQL");
  });

  test("Redis unreachable, stopped or dropped", () => {
    const max = Object.assign(new Error("Reached the max retries per request limit (which is 2)."), {
      name: "MaxRetriesPerRequestError",
    });
    expect(dependencyOf(max)).toBe("Redis");
    expect(dependencyOf(new Error("Command timed out"))).toBe("Redis");
    expect(dependencyOf(new Error("Connection is closed."))).toBe("Redis");
  });

  test("a refused socket is named by the address it was refused at", () => {
    const known = knownAddresses({
      DATABASE_URL: "postgres://u:p@127.0.0.1:55432/feed",
      S3_ENDPOINT: "http://127.0.0.1:9500",
    });
    expect(dependencyOf(sock("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:55432"), known)).toBe(
      "PostgreSQL",
    );
    expect(dependencyOf(sock("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:9500"), known)).toBe("S3");
    expect(dependencyOf(sock("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1"), known)).toBe(
      "a backing service",
    );
  });

  test("a refused socket names no service it cannot know", () => {
    expect(dependencyOf(sock("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:55999"))).toBe(
      "a backing service",
    );
  });

  test("only an unreachable server stops the api sending to PostgreSQL, not one slow statement", () => {
    const known = knownAddresses({ DATABASE_URL: "postgres://u:p@127.0.0.1:55432/feed" });
    expect(isPostgresUnreachable(sock("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:55432"), known)).toBe(
      true,
    );
    expect(isPostgresUnreachable(pg("57P01"))).toBe(true);
    expect(isPostgresUnreachable(sock("CONNECTION_CLOSED", "write CONNECTION_CLOSED 127.0.0.1:55432"))).toBe(
      true,
    );
    expect(isPostgresUnreachable(pg("57014"))).toBe(false);
    expect(isPostgresUnreachable(pg("53300"))).toBe(false);
    expect(isPostgresUnreachable(new Error("Command timed out"))).toBe(false);
  });

  test("bugs are not outages", () => {
    expect(dependencyOf(pg("42P01", 'relation "x" does not exist'))).toBeNull();
    expect(dependencyOf(pg("23505"))).toBeNull();
    expect(dependencyOf(new TypeError("undefined is not a function"))).toBeNull();
    expect(dependencyOf(new Error("Command timed out somewhere else entirely").message)).toBeNull();
    expect(dependencyOf(null)).toBeNull();
  });
});
