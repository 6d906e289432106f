import { startMockIdp } from "./mock-idp.ts";

// `./dev up`, the e2e suite and compose run this: the mock identity provider on MOCK_IDP_PORT.
// It reads only its own settings: the services' configuration (secrets, production refusals)
// is not its business.
const port = Number(process.env.MOCK_IDP_PORT || 9400);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write("MOCK_IDP_PORT: expected a port number (1-65535)\n");
  process.exit(78);
}
// Compose listens on all interfaces, signs as http://mock-idp:9400 (what the api reaches) and
// sends browsers to http://localhost:9400; natively all three are the defaults.
const host = process.env.MOCK_IDP_HOST ?? "127.0.0.1";
const idp = await startMockIdp(port, host, {
  issuer: process.env.MOCK_IDP_ISSUER,
  browserUrl: process.env.MOCK_IDP_BROWSER_URL,
});
console.log(
  JSON.stringify({
    time: new Date().toISOString(),
    service: "mock-idp",
    level: "info",
    msg: `mock identity provider at ${idp.issuer}`,
  }),
);
const stop = async () => {
  await idp.stop();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
