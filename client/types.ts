import openapiTS, { astToString } from "openapi-typescript";
import { createApp, type Deps } from "../api/app.ts";
import { createApiMetrics } from "../api/metrics.ts";
import { parseConfig } from "../core/config.ts";

// The typed client's types, generated from the document the code serves (GET /openapi.json of
// an app with the default configuration: no database or Redis is needed to describe it).
// `bun run client:generate` (client/generate-cli.ts) rewrites client/api.d.ts; client/client.test.ts fails when the
// committed file no longer matches the code, and tsc fails where callers no longer match it.

export async function documentOfCode(): Promise<Record<string, unknown>> {
  const deps = { config: parseConfig({}), metrics: createApiMetrics() } as unknown as Deps;
  const res = await createApp(deps).handle(new Request("http://localhost/openapi.json"));
  return (await res.json()) as Record<string, unknown>;
}

export async function clientTypes(): Promise<string> {
  const ast = await openapiTS(JSON.stringify(await documentOfCode()));
  return `// Generated from GET /openapi.json by client/types.ts: do not edit (bun run client:generate).\n\n${astToString(ast)}`;
}
