import { describe, expect, test } from "bun:test";

// The images and the gateway, checked as files (no Docker engine here): the runtime image
// carries no development tooling and no local secrets, and the gateway neither forwards what
// clients say about their address nor exposes metrics.

const root = `${import.meta.dir}/..`;
const read = (f: string) => Bun.file(`${root}/${f}`).text();

describe("packaging", () => {
  test(".dockerignore keeps .env (real secrets) out of every image", async () => {
    const lines = (await read(".dockerignore")).split("\n").map((l) => l.trim());
    expect(lines).toContain(".env");
    expect(lines).toContain(".env.*");
  });

  test("the runtime image ships neither the mock identity provider nor its library", async () => {
    const dockerfile = await read("Dockerfile");
    const runtime = dockerfile.slice(dockerfile.indexOf("AS runtime"), dockerfile.indexOf("AS test"));
    expect(runtime).toContain("COPY api ./api");
    expect(runtime).not.toMatch(/COPY e2e/);
    expect(dockerfile).toContain("bun install --frozen-lockfile --production");
    const pkg = await Bun.file(`${root}/package.json`).json();
    expect(Object.keys(pkg.dependencies)).not.toContain("oauth2-mock-server");
    expect(Object.keys(pkg.devDependencies)).toContain("oauth2-mock-server");
  });

  test("nginx replaces X-Forwarded-For with the address it saw, and answers /metrics 404", async () => {
    const nginx = await read("deploy/nginx.conf");
    expect(nginx).toContain("proxy_set_header X-Forwarded-For $remote_addr;");
    expect(nginx).not.toContain("$proxy_add_x_forwarded_for");
    expect(nginx).toMatch(/location = \/metrics \{ return 404; \}/);
  });

  test("compose's stack runs as development, so production's refusals cannot be what it ships", async () => {
    const compose = Bun.YAML.parse(await read("compose.yml")) as {
      services: Record<string, { environment?: Record<string, string>; build?: { target?: string } }>;
    };
    const api = compose.services.api!.environment!;
    // It carries the mock identity provider and published secrets: never NODE_ENV=production.
    expect(api.OIDC_ISSUER).toContain("mock-idp");
    expect(api.NODE_ENV).toBe("development");
    expect(compose.services["mock-idp"]!.build!.target).toBe("test");
    expect(api.TRUSTED_PROXIES).toBe("1");
  });

  test("./dev keeps the api on loopback", async () => {
    expect(await read("dev")).toMatch(/^export HOST="\$\{HOST:-127\.0\.0\.1\}"$/m);
  });
});
