import { randomShard } from "../../core/ids.ts";
import { findUserByIdentity, handlesTaken, insertIdentity, lockIdentity } from "../../db/identities.ts";
import { insertUserIfHandleFree, type UserRow } from "../../db/users.ts";
import { runCommand } from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import { baseHandle, type ExternalProfile } from "./profiles.ts";

/**
 * Finds the user of an external identity, or creates it (with UserRegisteredEvent) on the first
 * sign-in. Concurrent first sign-ins of one identity queue on a transaction lock, so they make
 * one user.
 */
export async function findOrCreateUser(
  deps: Deps,
  provider: string,
  profile: ExternalProfile,
): Promise<{ user: UserRow; created: boolean }> {
  const out = await runCommand<{ user: UserRow; created: boolean }>(
    deps,
    { userId: "0", route: "sign-in", key: undefined, required: false, body: null },
    async (tx) => {
      await lockIdentity(tx, provider, profile.subject);
      const existing = await findUserByIdentity(tx, provider, profile.subject);
      if (existing) return { status: 200, body: { user: existing, created: false }, events: [] };

      const base = baseHandle(profile);
      const candidates = [
        base,
        ...Array.from({ length: 5 }, () => `${base.slice(0, 24)}_${Math.floor(Math.random() * 1e5)}`),
      ];
      const taken = await handlesTaken(tx, candidates);
      const displayName = (profile.name ?? profile.username ?? base).slice(0, 100) || base;
      let user: UserRow | undefined;
      for (const handle of candidates.filter((c) => !taken.has(c))) {
        user = await insertUserIfHandleFree(tx, { shard: randomShard(), handle, display_name: displayName });
        if (user) break;
      }
      if (!user) throw new Error(`no free handle near ${base}`);
      await insertIdentity(tx, { provider, subject: profile.subject, userId: user.id, email: profile.email });
      return {
        status: 201,
        body: { user, created: true },
        events: [
          { type: "UserRegistered", actorId: user.id, payload: { user_id: user.id, handle: user.handle } },
        ],
      };
    },
  );
  return out.body;
}
