import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";

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

  test("the image builds the web client and ships it; MinIO lets that origin post uploads", async () => {
    const dockerfile = await read("Dockerfile");
    const web = dockerfile.slice(dockerfile.indexOf("AS web"), dockerfile.indexOf("AS runtime"));
    expect(web).toContain("RUN bun run web:build");
    const runtime = dockerfile.slice(dockerfile.indexOf("AS runtime"), dockerfile.indexOf("AS test"));
    expect(runtime).toContain("COPY --from=web /app/web/dist ./web/dist");
    const compose = Bun.YAML.parse(await read("compose.yml")) as {
      services: Record<string, { environment?: Record<string, string> }>;
    };
    const publicUrl = compose.services.api!.environment!.PUBLIC_URL!;
    expect(compose.services.minio!.environment!.MINIO_API_CORS_ALLOW_ORIGIN).toBe(new URL(publicUrl).origin);
    expect(compose.services.api!.environment!.AUTH_RETURN_URLS).toContain(`${publicUrl}/app/`);
  });

  test("./dev keeps the api on loopback", async () => {
    expect(await read("dev")).toMatch(/^export HOST="\$\{HOST:-127\.0\.0\.1\}"$/m);
  });

  test("every COPY source of the Dockerfile exists, and .dockerignore keeps local state out", async () => {
    const dockerfile = await read("Dockerfile");
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm))
      for (const source of m[1]!.split(" "))
        expect([source, existsSync(`${root}/${source}`)]).toEqual([source, true]);
    const ignored = (await read(".dockerignore")).split("\n").map((l) => l.trim());
    for (const path of ["node_modules", ".dev", ".git"]) expect(ignored).toContain(path);
  });

  test("the test image has the servers its integration suites start, and bun owns its tree", async () => {
    const dockerfile = await read("Dockerfile");
    const testStage = dockerfile.slice(dockerfile.indexOf("AS test"));
    expect(testStage).toMatch(/apt-get install[^\n]*postgresql[^\n]*redis-server/);
    expect(testStage).toContain("COPY --chown=bun:bun . .");
    const compose = Bun.YAML.parse(await read("compose.yml")) as Compose;
    expect(compose.services.tests!.environment!.LOAD_TEST_SECRET).toBeTruthy();
  });
});

type Compose = {
  services: Record<
    string,
    { environment?: Record<string, string>; ports?: string[]; command?: string[]; entrypoint?: string[] }
  >;
};

describe("compose's published surface", () => {
  const load = async () => Bun.YAML.parse(await read("compose.yml")) as Compose;

  test("only the gateway listens beyond loopback; the projector has no host port (it scales)", async () => {
    const compose = await load();
    for (const [name, svc] of Object.entries(compose.services))
      for (const port of svc.ports ?? [])
        if (name !== "gateway") expect([name, port]).toEqual([name, expect.stringMatching(/^127\.0\.0\.1:/)]);
    expect(compose.services.projector!.ports).toBeUndefined();
    const prometheus = Bun.YAML.parse(await read("observability/prometheus.compose.yml")) as {
      scrape_configs: { job_name: string; dns_sd_configs?: { names: string[] }[] }[];
    };
    const job = prometheus.scrape_configs.find((j) => j.job_name === "projector")!;
    expect(job.dns_sd_configs?.[0]?.names).toEqual(["projector"]);
    expect(compose.services.prometheus!.command!.join(" ")).not.toContain("--web.enable-lifecycle");
  });

  test("the five S3_* settings configure the services, MinIO and its bucket; presigned URLs name the host's address", async () => {
    const text = await read("compose.yml");
    const compose = await load();
    const api = compose.services.api!.environment!;
    for (const name of ["S3_ENDPOINT", "S3_KEY", "S3_SECRET", "S3_BUCKET", "S3_REGION"])
      expect([name, text]).toEqual([name, expect.stringContaining(`${name}: \${${name}:-`)]);
    expect(api.S3_PUBLIC_ENDPOINT).toBe("${S3_PUBLIC_ENDPOINT:-http://localhost:9000}");
    expect(compose.services.minio!.environment!.MINIO_ROOT_USER).toBe("${S3_KEY:-feed-minio}");
    expect(compose.services["minio-bucket"]!.entrypoint!.join(" ")).toContain('"local/$${S3_BUCKET}"');
    expect(text).not.toMatch(/MINIO_ROOT_USER:-|feed-media\n|:-admin\}/);
  });
});
