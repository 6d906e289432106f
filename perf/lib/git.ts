// The checkout a measurement ran from, for its report: the api and projector measured may predate
// uncommitted edits to it.

export interface CodeVersion {
  commit: string;
  /** Tracked files with uncommitted changes. */
  dirty: string[];
}

export function codeVersion(): CodeVersion {
  const git = (...args: string[]) =>
    Bun.spawnSync(["git", ...args], { cwd: import.meta.dir, stdout: "pipe" })
      .stdout.toString()
      .trim();
  return {
    commit: git("rev-parse", "HEAD"),
    dirty: git("diff", "--name-only", "HEAD").split("\n").filter(Boolean),
  };
}

/** The commit measured, short, and whether the tree had uncommitted changes. */
export function commitOf(): string {
  const { commit, dirty } = codeVersion();
  return `${commit.slice(0, 12) || "unknown"}${dirty.length ? " with uncommitted changes" : ""}`;
}
