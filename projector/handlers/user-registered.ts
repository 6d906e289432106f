import { bumpUserStats } from "../../db/projections.ts";
import type { Handler } from "./types.ts";

/** UserRegisteredEvent: the profile counters start at zero (a no-op when they exist). */
export const onUserRegistered: Handler<"UserRegistered"> = async (deps, event) => {
  await bumpUserStats(deps.sql, event.payload.user_id, {});
};
