import { clientTypes } from "./types.ts";

// bun run client:generate: client/api.d.ts from the code's /openapi.json.
await Bun.write(`${import.meta.dir}/api.d.ts`, await clientTypes());
console.log("client/api.d.ts written");
