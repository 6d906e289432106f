// wrk in its own process, and an Elysia hello-world beside it: the read benchmarks' method, so
// that rates are reported as a share of a baseline measured in the same run; and
// what read-bench.ts and cold-bench.ts share besides (Redis's counters, report rows).
import type { RedisClient } from "../core/redis.ts";
import { treeSeconds } from "./lib/proc.ts";

export interface WrkResult {
  requests: number;
  rate: number;
  p50: number;
  p99: number;
  non2xx: number;
}

/**
 * Runs `wrk -t1 --latency` and reads its summary (times in ms). With `doneFile` (a script from
 * tokenScript with stopAfter), the run ends when the script has seen its last response: wrk's
 * thread:stop() does not end a run, so wrk gets the SIGINT on which it prints its summary.
 */
export async function wrk(
  url: string,
  o: { connections: number; seconds: number; script?: string; doneFile?: string },
): Promise<WrkResult> {
  const cmd = [
    "wrk",
    "-t1",
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    "--latency",
    ...(o.script ? ["-s", o.script] : []),
    url,
  ];
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "inherit" });
  if (o.doneFile) {
    const file = Bun.file(o.doneFile);
    while (proc.exitCode === null && !(await file.exists())) await Bun.sleep(10);
    proc.kill("SIGINT");
  }
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  const ms = (re: RegExp) => {
    const m = re.exec(out);
    if (!m) return Number.NaN;
    const v = Number(m[1]);
    return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
  };
  return {
    requests: num(/(\d+) requests in/),
    rate: num(/Requests\/sec:\s+([\d.]+)/),
    p50: ms(/50%\s+([\d.]+)(us|ms|s)/),
    p99: ms(/99%\s+([\d.]+)(us|ms|s)/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
  };
}

/**
 * A wrk script that sends GET `path` with each bearer token in turn; with `stopAfter`, it creates
 * `<script>.done` after that many responses (see wrk's doneFile).
 */
export async function tokenScript(
  path: string,
  tokens: readonly string[],
  stopAfter?: number,
): Promise<string> {
  const file = `/tmp/wrk-${process.pid}-${Date.now()}.lua`;
  await Bun.write(
    file,
    `tokens = {${tokens.map((t) => `"${t}"`).join(",")}}
i = 0
done = 0
request = function()
  i = i + 1
  return wrk.format("GET", "${path}", { ["Authorization"] = "Bearer " .. tokens[((i - 1) % #tokens) + 1] })
end
${stopAfter ? `response = function(status, headers, body)\n  done = done + 1\n  if done == ${stopAfter} then io.open("${file}.done", "w"):close() end\nend\n` : ""}`,
  );
  return file;
}

/** An Elysia hello-world in its own process, measured with wrk: its rate and CPU µs per request. */
export async function helloWorld(o: {
  connections: number;
  seconds: number;
}): Promise<{ rate: number; cpuUs: number }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const hello = Bun.spawn(
    [
      "bun",
      "-e",
      `import { Elysia } from "elysia"; new Elysia().get("/", () => "hello").listen({ port: ${port}, hostname: "127.0.0.1" });`,
    ],
    { stdout: "ignore", stderr: "inherit" },
  );
  try {
    for (let i = 0; i < 50; i++) {
      if ((await fetch(`http://127.0.0.1:${port}/`).catch(() => null))?.ok) break;
      await Bun.sleep(100);
    }
    const cpu0 = await treeSeconds(String(hello.pid));
    const hw = await wrk(`http://127.0.0.1:${port}/`, o);
    const cpu = (await treeSeconds(String(hello.pid))) - cpu0;
    return { rate: hw.rate, cpuUs: Math.round((cpu / hw.requests) * 1e6) };
  } finally {
    hello.kill();
  }
}

/** Redis's CPU seconds so far (INFO cpu) and the commands it has processed (INFO stats). */
export async function redisStats(redis: RedisClient): Promise<{ cpu: number; commands: number }> {
  const info = `${await redis.info("cpu")}${await redis.info("stats")}`;
  const get = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return { cpu: get("used_cpu_sys") + get("used_cpu_user"), commands: get("total_commands_processed") };
}

/**
 * Appends one run to a report's table (one row per run, newest last). A new file starts with
 * `intro` and the table's header: the cells' names, the first column left-aligned, the rest right.
 */
export async function appendRun(
  file: string,
  intro: string,
  cells: readonly (readonly [name: string, value: string | number])[],
): Promise<void> {
  const line = (xs: readonly (string | number)[]) => `| ${xs.join(" | ")} |\n`;
  const head =
    `${intro}\n\n` +
    line(cells.map(([name]) => name)) +
    line(cells.map((_, i) => (i === 0 ? "---" : "---:")));
  const exists = await Bun.file(file).exists();
  await Bun.write(
    file,
    (exists ? await Bun.file(file).text() : head) + line(cells.map(([, value]) => value)),
  );
}
