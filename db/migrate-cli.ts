import { loadConfigOrExit } from "../core/config.ts";
import { createSql } from "./client.ts";
import { migrate } from "./migrate.ts";

const config = loadConfigOrExit();
const sql = createSql({ url: config.DATABASE_URL, max: 1 });
try {
  const applied = await migrate(sql, undefined, (m) => console.log(m));
  console.log(applied.length ? `migrated: ${applied.length} applied` : "migrated: up to date");
} finally {
  await sql.end();
}
