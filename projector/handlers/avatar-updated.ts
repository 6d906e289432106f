import { keys } from "../../core/redis-keys.ts";
import type { Handler } from "./types.ts";

/** AvatarUpdatedEvent, projector group: the cached user card that names the old avatar is dropped. */
export const onAvatarUpdated: Handler<"AvatarUpdated"> = async (deps, event) => {
  await deps.redis.del(keys.user(event.payload.user_id));
};
