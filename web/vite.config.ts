import { gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";

// The web client, built into web/dist and served by the api at /app/ (api/web/routes.ts).

/** What the page may weigh, gzipped: scripts and styles together. A build over it fails. */
export const BUNDLE_BUDGET_BYTES = 16 * 1024;

/** Fails the build when the bundle outgrows its budget, and prints what it weighs. */
function bundleBudget(limit: number): Plugin {
  return {
    name: "bundle-budget",
    apply: "build",
    generateBundle(_options, bundle) {
      let total = 0;
      for (const file of Object.values(bundle)) {
        if (!/\.(js|css)$/.test(file.fileName)) continue;
        const source = file.type === "chunk" ? file.code : file.source;
        total += gzipSync(source).length;
      }
      const line = `bundle: ${(total / 1024).toFixed(1)} kB gzipped of a ${limit / 1024} kB budget`;
      if (total > limit) this.error(`${line}: over budget`);
      this.info(line);
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  base: "/app/",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", reportCompressedSize: false },
  plugins: [bundleBudget(BUNDLE_BUDGET_BYTES)],
});
