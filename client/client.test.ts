import { describe, expect, test } from "bun:test";
import { createApp, type Deps } from "../api/app.ts";
import { createApiMetrics } from "../api/metrics.ts";
import { parseConfig } from "../core/config.ts";
import { feedClient } from "./index.ts";
import { clientTypes } from "./types.ts";

describe("the typed client", () => {
  test("client/api.d.ts is what the code's document generates (else: bun run client:generate)", async () => {
    expect(await clientTypes()).toBe(await Bun.file(`${import.meta.dir}/api.d.ts`).text());
  });

  test("calls a route and reads its typed answer", async () => {
    const app = createApp({ config: parseConfig({}), metrics: createApiMetrics() } as unknown as Deps);
    const api = feedClient("http://localhost", { fetch: (req) => app.handle(req) });
    const { data, response } = await api.GET("/health");
    expect(response.status).toBe(200);
    expect(data?.status).toBe("ok");
  });
});
