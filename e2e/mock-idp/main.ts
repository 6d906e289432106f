import { loadConfig } from "../../core/config.ts";
import { startMockIdp } from "./mock-idp.ts";

// `./dev up`, the e2e suite and compose run this: the mock identity provider on MOCK_IDP_PORT.
const config = loadConfig();
// Compose listens on all interfaces, signs as http://mock-idp:9400 (what the api reaches) and
// sends browsers to http://localhost:9400; natively all three are the defaults.
const host = process.env.MOCK_IDP_HOST ?? "127.0.0.1";
const idp = await startMockIdp(config.MOCK_IDP_PORT, host, {
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
