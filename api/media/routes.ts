import { Elysia, t } from "elysia";
import { AppError } from "../../core/errors.ts";
import { mediaFilename, mediaKeys } from "../../core/media.ts";
import { keys } from "../../core/redis-keys.ts";
import { replaceAvatar } from "../../db/users.ts";
import { runCommand } from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import { mediaUrls, presentUser } from "../hydrate/present.ts";
import { bearerSecurity, requireAuth } from "../plugins/auth.ts";
import { NoQuery, problems, UserSchema } from "../schemas.ts";
import { checkImage } from "./validate-image.ts";

// PUT /me/avatar (multipart `file`): UpdateAvatarCommand → AvatarUpdatedEvent. The new object is
// written and committed first; the old one is deleted afterwards by the projector on the event,
// so a crash never leaves the user pointing at a deleted object.

export const mediaRoutes = (deps: Deps) =>
  new Elysia().use(requireAuth(deps)).put(
    "/me/avatar",
    async ({ viewer, body, set }) => {
      if (!deps.storage)
        throw new AppError("not_ready", "media storage is not configured (S3_ENDPOINT, S3_KEY, S3_SECRET)");
      const image = await checkImage(deps.config, body.file);
      const key = mediaKeys.avatar(viewer.id, mediaFilename(image.type));
      await deps.storage.put(key, image.bytes, image.mime);
      try {
        await runCommand(
          deps,
          { userId: viewer.id, route: "PUT /me/avatar", key: undefined, required: false, body: null },
          async (tx) => {
            const replaced = await replaceAvatar(tx, viewer.id, key);
            if (!replaced) throw new AppError("unauthorized", "the token's user no longer exists");
            return {
              status: 200,
              body: null,
              events: [
                {
                  type: "AvatarUpdated",
                  actorId: viewer.id,
                  payload: { user_id: viewer.id, key, previous_key: replaced.previous },
                },
              ],
            };
          },
        );
      } catch (e) {
        // Nothing points at the new object: it goes now rather than linger.
        await deps.storage.delete(key).catch(() => {});
        throw e;
      }
      await deps.redis.del(keys.user(viewer.id)).catch(() => {});
      set.status = 200;
      const me = { ...viewer, avatar_key: key };
      return presentUser(deps, me, await mediaUrls(deps, [key]));
    },
    {
      body: t.Object(
        { file: t.Optional(t.File({ description: "JPEG, PNG or WebP, at most 5 MB" })) },
        { additionalProperties: false },
      ),
      query: NoQuery,
      response: { 200: UserSchema, ...problems(400, 401, 413, 415, 503) },
      detail: {
        summary: "Replace your avatar (multipart file); the old object is deleted",
        tags: ["media"],
        security: bearerSecurity,
      },
    },
  );
