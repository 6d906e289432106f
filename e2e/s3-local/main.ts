import S3rver from "s3rver";
import { loadConfig } from "../../core/config.ts";
import { browserUploadCors } from "./cors.ts";

// The local S3 endpoint for development and tests (./dev starts it): s3rver on S3_ENDPOINT's
// port with the bucket created. It checks neither signatures nor POST policies, which is why the
// service verifies every upload itself. Compose uses MinIO instead.

const config = loadConfig();
const endpoint = new URL(config.S3_ENDPOINT ?? "http://127.0.0.1:9500");
const directory = process.env.S3_LOCAL_DIR ?? `${import.meta.dir}/../../.dev/s3`;
const server = new S3rver({
  port: Number(endpoint.port || 9500),
  address: endpoint.hostname,
  silent: true,
  directory,
  configureBuckets: [
    {
      name: config.S3_BUCKET,
      configs: [browserUploadCors([new URL(config.PUBLIC_URL).origin, ...config.CORS_ORIGINS])],
    },
  ],
});
await server.run();
console.log(
  JSON.stringify({
    time: new Date().toISOString(),
    service: "s3",
    level: "info",
    msg: `local S3 at ${endpoint.origin}, bucket ${config.S3_BUCKET}, data in ${directory}`,
  }),
);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
