import type { IdClaims } from "./id-token.ts";

// What we keep of an external account, whatever the provider.
export interface ExternalProfile {
  subject: string;
  email: string | null;
  name: string | null;
  username: string | null;
}

export function profileFromIdClaims(c: IdClaims): ExternalProfile {
  return {
    subject: c.sub,
    // An unverified address is not the person's: it is dropped, not trusted.
    email: c.email && c.email_verified === true ? c.email.toLowerCase() : null,
    name: c.name ?? c.given_name ?? null,
    username: c.preferred_username ?? null,
  };
}

export interface GithubUser {
  id: number;
  login: string;
  name: string | null;
}

export interface GithubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

/** GitHub: the numeric id is the stable subject (logins can be renamed); primary verified email. */
export function profileFromGithub(user: GithubUser, emails: GithubEmail[]): ExternalProfile {
  const primary = emails.find((e) => e.primary && e.verified);
  return {
    subject: String(user.id),
    email: primary ? primary.email.toLowerCase() : null,
    name: user.name,
    username: user.login,
  };
}

/** A handle from a profile: lower-case [a-z0-9_], 1–30 characters, never empty. */
export function baseHandle(p: ExternalProfile): string {
  const candidates = [p.username, p.email?.split("@")[0], p.name];
  for (const c of candidates) {
    const h = (c ?? "")
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, "_")
      .slice(0, 24)
      .replace(/^_+|_+$/g, "");
    if (h.length > 0) return h;
  }
  return "user";
}
