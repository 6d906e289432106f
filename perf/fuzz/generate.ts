import fc from "fast-check";
import type { JsonSchema, Operation, Parameter } from "./openapi.ts";
import type { FilePart, FormPart, FuzzBody, FuzzRequest } from "./request.ts";
import { generateValue, isFileSchema } from "./schema-values.ts";
import {
  BAD_UTF8,
  BOGUS_IDS,
  generateBogusCursor,
  headerSafe,
  nestJson,
  oddHeaderValue,
  oddString,
  RAW_NUMBERS,
  RAW_SEGMENTS,
} from "./values.ts";
import type { FuzzWorld } from "./world.ts";

// Requests for every operation of the document: parameters and bodies valid by its schemas,
// then bent one way at a time (a wrong type, a missing field, a hostile string, a bogus id,
// cursor, token, content type or Idempotency-Key), and pointed at other people's things.

/** A generated piece of a request and what was done to make it. */
interface Piece<T> {
  v: T;
  tags: string[];
}
type Arb<T> = fc.Arbitrary<Piece<T>>;

const tag =
  <T>(name: string) =>
  (v: T): Piece<T> => ({ v, tags: name ? name.split(" ") : [] });
/** Weighted choices, each with the tags (space-separated) it adds. */
function choose<T>(...choices: [weight: number, arb: fc.Arbitrary<T>, tag: string][]): Arb<T> {
  return fc.oneof(...choices.map(([weight, arb, name]) => ({ weight, arbitrary: arb.map(tag<T>(name)) })));
}
const concatTags = (...pieces: Piece<unknown>[]) => pieces.flatMap((p) => p.tags);

// ---------------------------------------------------------------- ids

const pickFrom = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const bogusId = fc.constantFrom(...BOGUS_IDS);

/** Post ids: the actor's, the victim's, the sentinel, a missing one, bogus ones. */
function pickPostId(w: FuzzWorld, opts: { othersMustBeRefused: boolean; sentinel: boolean }): Arb<string> {
  const refused = opts.othersMustBeRefused ? "bola:must-refuse bola:hidden" : "id:others";
  const choices: [number, fc.Arbitrary<string>, string][] = [
    [4, pickFrom(w.actor.postIds), "id:own"],
    [3, pickFrom(w.victim.postIds), refused],
    [1, fc.constant(w.missingPostId), "id:missing"],
    [3, bogusId, "id:bogus"],
    [1, fc.stringMatching(/^[1-9][0-9]{0,18}$/), "id:random"],
  ];
  if (opts.sentinel) choices.push([1, fc.constant(w.bystander.postIds[0]!), refused]);
  return choose(...choices);
}

function pickUserId(w: FuzzWorld, opts: { sentinel: boolean }): Arb<string> {
  const choices: [number, fc.Arbitrary<string>, string][] = [
    [2, fc.constant(w.actor.id), "id:self"],
    [4, fc.constant(w.victim.id), "id:others"],
    [1, fc.constant(w.missingUserId), "id:missing"],
    [3, bogusId, "id:bogus"],
    [1, fc.stringMatching(/^[1-9][0-9]{0,18}$/), "id:random"],
  ];
  if (opts.sentinel) choices.push([1, fc.constant(w.bystander.id), "id:sentinel"]);
  return choose(...choices);
}

// ---------------------------------------------------------------- auth

function generateAuthorization(w: FuzzWorld): Arb<string | null> {
  const bad = Object.entries(w.badTokens);
  const tok = w.actor.token;
  return fc.oneof(
    {
      weight: 14,
      arbitrary: fc.constant<Piece<string | null>>({ v: `Bearer ${tok}`, tags: ["auth:actor"] }),
    },
    { weight: 1, arbitrary: fc.constant<Piece<string | null>>({ v: `bearer ${tok}`, tags: ["auth:actor"] }) },
    { weight: 2, arbitrary: fc.constant<Piece<string | null>>({ v: null, tags: ["auth:none"] }) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(...bad).map(([name, t]) => ({ v: `Bearer ${t}`, tags: [`auth:${name}`] })),
    },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.constantFrom(
            "Basic dXNlcjpwYXNz",
            "Bearer",
            "Bearer ",
            `Bearer  ${tok}`,
            `Bearer ${tok} extra`,
            `Token ${tok}`,
            tok,
            `Bearer ${tok},Bearer ${tok}`,
            `Bearer ${w.victim.token.slice(0, -1)}`,
          ),
          oddHeaderValue,
        )
        .map((v) => ({ v, tags: ["auth:malformed"] })),
    },
  );
}

// ---------------------------------------------------------------- path and query

const encodeSegment = (s: string) => encodeURIComponent(s.toWellFormed());

function generatePathParam(op: Operation, p: Parameter, w: FuzzWorld): Arb<string> {
  const raw = choose([1, fc.constantFrom(...RAW_SEGMENTS), "path:raw"]);
  let value: Arb<string>;
  if (p.name === "provider") {
    value = choose(
      [6, fc.constant("oidc"), ""],
      [1, fc.constantFrom("github", "google", "OIDC", "oidc ", "saml"), "provider:unknown"],
      [1, oddString, "provider:odd"],
      [1, fc.constant("x".repeat(40)), "provider:long"],
    );
  } else if (p.name === "post_id" || (p.name === "id" && op.path.startsWith("/posts/"))) {
    value = pickPostId(w, { othersMustBeRefused: op.key === "PUT /posts/{id}/image", sentinel: true });
  } else if (p.name === "user_id" || (p.name === "id" && op.path.startsWith("/users/"))) {
    value = pickUserId(w, { sentinel: true });
  } else {
    value = choose([3, generateValue(p.schema).map(String), ""], [1, oddString, "path:odd"]);
  }
  return fc.oneof(
    { weight: 12, arbitrary: value.map((x) => ({ v: encodeSegment(x.v), tags: x.tags })) },
    { weight: 1, arbitrary: raw },
  );
}

type QueryPair = [string, string];

function generateQueryParam(op: Operation, p: Parameter, w: FuzzWorld): Arb<QueryPair[]> {
  const omit = fc.constant<QueryPair[]>([]);
  const one = (arb: fc.Arbitrary<string>) => arb.map((v): QueryPair[] => [[p.name, v]]);
  switch (p.name) {
    case "cursor": {
      const mine = op.path === "/feed" ? w.cursors.feed : w.cursors.userPosts;
      const theirs = op.path === "/feed" ? w.cursors.userPosts : w.cursors.feed;
      const real: [number, fc.Arbitrary<QueryPair[]>, string][] = [];
      if (mine.length > 0) real.push([3, one(pickFrom(mine)), "cursor:valid"]);
      if (theirs.length > 0) real.push([1, one(pickFrom(theirs)), "cursor:other-list"]);
      return choose([3, omit, ""], ...real, [
        4,
        one(generateBogusCursor([...mine, ...theirs])),
        "cursor:bogus",
      ]);
    }
    case "limit":
      return choose(
        [3, omit, ""],
        [3, one(fc.integer({ min: 1, max: 100 }).map(String)), ""],
        [
          3,
          one(
            fc.constantFrom(
              "0",
              "-1",
              "101",
              "1e2",
              "1.5",
              "abc",
              "",
              " 5",
              "0x10",
              "1e309",
              "Infinity",
              "-0",
              "9".repeat(30),
              "١٠",
              "5%00",
              "[]",
              "null",
            ),
          ),
          "limit:bogus",
        ],
      );
    case "state":
      return choose(
        [2, omit, ""],
        [2, one(pickFrom(w.logins.map((l) => l.state))), "state:issued"],
        [2, one(oddString), "state:odd"],
        [1, one(fc.constant("s".repeat(600))), "state:long"],
      );
    case "code":
      return choose(
        [1, omit, ""],
        [3, one(fc.string({ minLength: 1, maxLength: 60 })), "code:random"],
        [1, one(oddString), "code:odd"],
        [1, one(fc.constant("c".repeat(3000))), "code:long"],
      );
    default: {
      const valid = generateValue(p.schema).map(String);
      return choose(
        [p.required ? 0 : 3, omit, ""],
        [3, one(valid), ""],
        [2, one(oddString), `query:odd-${p.name}`],
        [1, one(fc.constant("q".repeat(3000))), `query:long-${p.name}`],
      );
    }
  }
}

const extraQuery: Arb<QueryPair[]> = choose(
  [16, fc.constant<QueryPair[]>([]), ""],
  [
    1,
    fc
      .tuple(
        fc.constantFrom("x", "__proto__", "constructor", "limit[]", "cursor[0]", "", "a.b", "😀"),
        oddString,
      )
      .map(([k, v]): QueryPair[] => [[k, v]]),
    "query:unknown",
  ],
);

function generateQuery(op: Operation, w: FuzzWorld): Arb<string> {
  const params = op.parameters.filter((p) => p.in === "query");
  return fc
    .tuple(
      fc.tuple(...params.map((p) => generateQueryParam(op, p, w))),
      extraQuery,
      choose(
        [20, fc.constant(""), ""],
        [
          1,
          fc.constantFrom("?limit=1&limit=2", "?=", "?&&", "?cursor", "?limit=%ZZ", "?%00=1", "?a=%"),
          "query:raw",
        ],
      ),
    )
    .map(([pieces, extra, raw]) => {
      if (raw.v) return { v: raw.v, tags: raw.tags };
      const q = new URLSearchParams();
      for (const piece of [...pieces, extra]) for (const [k, v] of piece.v) q.append(k, v.toWellFormed());
      const s = q.toString();
      return { v: s ? `?${s}` : "", tags: concatTags(...pieces, extra) };
    });
}

// ---------------------------------------------------------------- headers

const IDEMPOTENCY_POOL = ["fuzz-key-1", "fuzz-key-2", "fuzz-key-3"];

function generateIdempotencyKey(op: Operation): Arb<string | null> {
  if (!op.parameters.some((p) => p.in === "header" && p.name === "idempotency-key"))
    return fc.constant({ v: null, tags: [] });
  return choose<string | null>(
    [5, fc.uuid(), ""],
    [2, fc.constantFrom(...IDEMPOTENCY_POOL), "idem:reused"],
    [1, fc.constant(null), "idem:none"],
    [
      2,
      fc.oneof(
        fc.constantFrom(
          "",
          " ",
          "a b",
          "é",
          '"',
          '""',
          '"quoted"',
          "x".repeat(256),
          "k".repeat(255),
          "\ttab",
        ),
        oddHeaderValue,
      ),
      "idem:odd",
    ],
  );
}

/** Declared header parameters other than Idempotency-Key: the load-test secret, so far. */
function generateHeaderParams(op: Operation, w: FuzzWorld): Arb<[string, string][]> {
  const params = op.parameters.filter((p) => p.in === "header" && p.name !== "idempotency-key");
  const one = (p: Parameter): Arb<[string, string][]> => {
    const as = (arb: fc.Arbitrary<string>) => arb.map((v): [string, string][] => [[p.name, v]]);
    const secret = p.name === "x-load-test-secret" ? w.loadTestSecret : undefined;
    return choose(
      [p.required ? 0 : 2, fc.constant<[string, string][]>([]), ""],
      [secret ? 2 : 0, as(fc.constant(secret ?? "")), `header:valid-${p.name}`],
      [2, as(fc.oneof(generateValue(p.schema).map(String), oddHeaderValue)), `header:odd-${p.name}`],
    );
  };
  return fc
    .tuple(...params.map(one))
    .map((pieces) => ({ v: pieces.flatMap((x) => x.v), tags: concatTags(...pieces) }));
}

const extraHeaders: Arb<[string, string][]> = choose(
  [14, fc.constant<[string, string][]>([]), ""],
  [1, oddHeaderValue.map((v): [string, string][] => [["x-request-id", v]]), "header:request-id"],
  [1, oddHeaderValue.map((v): [string, string][] => [["accept", v]]), "header:accept"],
  [1, oddHeaderValue.map((v): [string, string][] => [["cookie", v]]), "header:cookie"],
  [
    1,
    fc
      .constantFrom("99999999999", "-1", "abc", "1e309", "0", "", "5.5")
      .map((v): [string, string][] => [["content-length", v]]),
    "header:content-length",
  ],
  [1, fc.constant<[string, string][]>([["content-encoding", "gzip"]]), "header:content-encoding"],
  // No Content-Length at all, as a chunked upload sends it: the size is known only once read.
  [1, fc.constant<[string, string][]>([]), "length:omitted"],
);

function generateCookie(op: Operation, w: FuzzWorld): Arb<[string, string][]> {
  if (!op.path.endsWith("/callback") || w.logins.length === 0) return fc.constant({ v: [], tags: [] });
  return choose(
    [2, fc.constant<[string, string][]>([]), ""],
    [3, pickFrom(w.logins).map((l): [string, string][] => [["cookie", l.cookie]]), "cookie:issued"],
    [
      1,
      fc.tuple(pickFrom(w.logins), fc.nat()).map(([l, i]): [string, string][] => {
        const at = l.cookie.indexOf("=") + 1 + (i % Math.max(1, l.cookie.length - l.cookie.indexOf("=") - 1));
        return [
          ["cookie", `${l.cookie.slice(0, at)}${l.cookie[at] === "A" ? "B" : "A"}${l.cookie.slice(at + 1)}`],
        ];
      }),
      "cookie:tampered",
    ],
    [1, oddHeaderValue.map((v): [string, string][] => [["cookie", `feed_login=${v}`]]), "cookie:odd"],
  );
}

// ---------------------------------------------------------------- bodies

/** A marker JSON.stringify leaves alone, replaced afterwards by raw JSON text. */
const RAW = "\u0001raw\u0001";
const RAW_QUOTED = JSON.stringify(RAW);

function generateField(name: string, s: JsonSchema, w: FuzzWorld): Arb<unknown> {
  switch (name) {
    case "post_id":
      // The sentinel post is never liked by A: liked_by_me for it must stay false.
      return pickPostId(w, { othersMustBeRefused: false, sentinel: false });
    case "user_id":
      return pickUserId(w, { sentinel: false });
    case "refresh_token": {
      const t = w.victim.refreshToken;
      return choose<unknown>(
        [3, pickFrom(w.actor.refreshTokens), "refresh:actor"],
        [
          2,
          fc.nat().map((i) => {
            const at = 3 + (i % (t.length - 3));
            return `${t.slice(0, at)}${t[at] === "A" ? "B" : "A"}${t.slice(at + 1)}`;
          }),
          "bola:must-refuse",
        ],
        [1, fc.constantFrom(t.slice(0, -1), `${t}A`, t.toLowerCase(), ` ${t}`), "bola:must-refuse"],
        [2, generateValue(s), "refresh:random"],
      );
    }
    case "upload_key": {
      const prefix = `uploads/${w.actor.id}/`;
      return choose<unknown>(
        [2, fc.constant(w.victim.uploadKey), "bola:must-refuse"],
        [1, fc.constant(`users/${w.victim.id}/avatars/x.webp`), "bola:must-refuse"],
        [1, fc.constant(`${prefix}../${w.victim.id}/x.png`), "bola:must-refuse"],
        [3, fc.string({ maxLength: 40 }).map((x) => `${prefix}${x}`), "upload:own-prefix"],
        [2, oddString.map((x) => `${prefix}${x}`), "upload:odd"],
        [1, fc.constant(`${prefix}${"k".repeat(500)}`), "upload:long"],
        [1, generateValue(s), ""],
      );
    }
    case "text":
      return choose<unknown>(
        [4, fc.string({ minLength: 1, maxLength: 80 }), ""],
        [3, oddString, "text:odd"],
        [
          1,
          fc.constantFrom("é".repeat(500), "😀".repeat(500), "x".repeat(501), "👨‍👩‍👧‍👦".repeat(200)),
          "text:edge",
        ],
        [1, fc.constant("x".repeat(2001)), "text:too-long"],
      );
    default:
      return choose<unknown>([5, generateValue(s), ""], [1, oddString, `field:odd-${name}`]);
  }
}

interface BodyShape {
  schema: JsonSchema;
  fields: [string, JsonSchema][];
  files: string[];
  required: Set<string>;
}

function readBodyShape(op: Operation): BodyShape {
  const schema = op.body?.["application/json"] ?? Object.values(op.body ?? {})[0] ?? {};
  const all = Object.entries(schema.properties ?? {});
  return {
    schema,
    fields: all.filter(([, s]) => !isFileSchema(s)),
    files: all.filter(([, s]) => isFileSchema(s)).map(([k]) => k),
    required: new Set(schema.required ?? []),
  };
}

function generateValidObject(shape: BodyShape, w: FuzzWorld): Arb<Record<string, unknown>> {
  if (shape.fields.length === 0) return fc.constant({ v: {}, tags: [] }) as Arb<Record<string, unknown>>;
  const model = Object.fromEntries(shape.fields.map(([k, s]) => [k, generateField(k, s, w)]));
  return fc
    .record(model, { requiredKeys: shape.fields.map(([k]) => k).filter((k) => shape.required.has(k)) })
    .map((rec) => {
      const pieces = Object.values(rec) as Piece<unknown>[];
      return {
        v: Object.fromEntries(Object.entries(rec).map(([k, p]) => [k, (p as Piece<unknown>).v])),
        tags: concatTags(...pieces),
      };
    });
}

const WRONG_TYPED: unknown[] = [123, -1, 1.5, true, false, null, [], {}, "str", [1, "2"], { a: { b: [] } }];
const pickKey = (keys: string[], i: number) => keys[i % keys.length]!;

/** The JSON text of a body: the valid object, or the object bent one way. */
function generateJsonBody(shape: BodyShape, valid: Arb<Record<string, unknown>>): Arb<FuzzBody> {
  const keys = shape.fields.map(([k]) => k);
  const keysOrX = keys.length > 0 ? keys : ["x"];
  const text = (t: string): FuzzBody => ({ kind: "text", text: t });
  const withRaw = (o: Record<string, unknown>, key: string, raw: string) =>
    text(JSON.stringify({ ...o, [key]: RAW }).replace(RAW_QUOTED, raw));
  const mutated = (
    weight: number,
    name: string,
    arb: fc.Arbitrary<(o: Record<string, unknown>) => FuzzBody>,
  ): fc.WeightedArbitrary<Piece<FuzzBody>> => ({
    weight,
    arbitrary: fc.tuple(valid, arb).map(([o, f]) => ({ v: f(o.v), tags: [...o.tags, name] })),
  });
  return fc.oneof(
    {
      weight: 32,
      arbitrary: valid.map((o) => ({ v: text(JSON.stringify(o.v)), tags: ["body:valid", ...o.tags] })),
    },
    mutated(
      8,
      "body:wrong-type",
      fc.tuple(fc.nat(), fc.constantFrom(...WRONG_TYPED)).map(
        ([i, bad]) =>
          (o) =>
            text(JSON.stringify({ ...o, [pickKey(keysOrX, i)]: bad })),
      ),
    ),
    mutated(
      8,
      "body:missing-required",
      fc.nat().map((i) => (o) => {
        const req = [...shape.required];
        const copy = { ...o };
        if (req.length > 0) delete copy[pickKey(req, i)];
        return text(JSON.stringify(req.length > 0 ? copy : {}));
      }),
    ),
    mutated(
      8,
      "body:extra-field",
      fc
        .tuple(
          fc.constantFrom(
            "extra",
            "__proto__",
            "constructor",
            "admin",
            "id",
            "author_id",
            "is_admin",
            "",
            "😀",
          ),
          fc.jsonValue({ maxDepth: 2 }),
        )
        .map(
          ([k, v]) =>
            (o) =>
              withRaw(o, k, JSON.stringify(v)),
        ),
    ),
    mutated(
      4,
      "body:huge-string",
      fc
        .tuple(
          fc.nat(),
          fc.constantFrom(10_000, 100_000, 1_000_000),
          fc.constantFrom("x", "é", "😀", "\u0000", "\ud800"),
        )
        .map(
          ([i, n, unit]) =>
            (o) =>
              text(JSON.stringify({ ...o, [pickKey(keysOrX, i)]: unit.repeat(n / unit.length) })),
        ),
    ),
    mutated(
      4,
      "body:deep",
      fc
        .tuple(
          fc.nat(),
          fc.constantFrom(100, 1_000, 10_000, 100_000),
          fc.constantFrom("array", "object" as const),
          fc.boolean(),
        )
        .map(
          ([i, depth, kind, whole]) =>
            (o) =>
              whole ? text(nestJson(depth, kind)) : withRaw(o, pickKey(keysOrX, i), nestJson(depth, kind)),
        ),
    ),
    mutated(
      8,
      "body:odd-unicode",
      fc.tuple(fc.nat(), oddString).map(
        ([i, s]) =>
          (o) =>
            text(JSON.stringify({ ...o, [pickKey(keysOrX, i)]: s })),
      ),
    ),
    mutated(
      8,
      "body:raw-number",
      fc.tuple(fc.nat(), fc.constantFrom(...RAW_NUMBERS)).map(
        ([i, n]) =>
          (o) =>
            withRaw(o, pickKey(keysOrX, i), n),
      ),
    ),
    mutated(
      4,
      "body:not-object",
      fc
        .constantFrom("[]", "[{}]", '"text"', "123", "null", "true", "1e309", '""', "[null]")
        .map((t) => () => text(t)),
    ),
    mutated(
      8,
      "body:malformed",
      fc
        .tuple(
          fc.nat(),
          fc.constantFrom(
            "truncate",
            "trailing-comma",
            "single-quotes",
            "comment",
            "bom",
            "nan",
            "duplicate",
            "garbage",
          ),
        )
        .map(([i, how]) => (o) => {
          const t = JSON.stringify(o);
          switch (how) {
            case "truncate":
              return text(t.slice(0, i % Math.max(1, t.length)));
            case "trailing-comma":
              return text(t.replace(/}$/, ",}"));
            case "single-quotes":
              return text(t.replaceAll('"', "'"));
            case "comment":
              return text(`/* hi */${t}`);
            case "bom":
              return text(`\ufeff${t}`);
            case "nan":
              return withRaw(o, pickKey(keysOrX, i), "NaN");
            case "duplicate": {
              const k = pickKey(keysOrX, i);
              return text(t.replace(/^{/, `{${JSON.stringify(k)}:[1,2,3],`));
            }
            default:
              return text("}{\u0000");
          }
        }),
    ),
    mutated(
      4,
      "body:empty",
      fc.constant(() => text("")),
    ),
    mutated(
      4,
      "body:bad-utf8",
      fc.tuple(fc.nat(), fc.constantFrom(...BAD_UTF8)).map(([i, bytes]) => (o) => {
        const [head, tail] = JSON.stringify({ ...o, [pickKey(keysOrX, i)]: RAW }).split(RAW);
        return {
          kind: "bytes",
          base64: Buffer.concat([
            Buffer.from(`${head}`),
            Buffer.from(bytes),
            Buffer.from(`${tail}`),
          ]).toString("base64"),
        };
      }),
    ),
    mutated(
      // About 5 MB of body each: rare (1 %), as a real client's mistake would be.
      1,
      "body:oversized",
      fc.constant(() => text(JSON.stringify({ text: "x".repeat(5 * 1024 * 1024 + 100 * 1024) }))),
    ),
  );
}

const CONTENT_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "application/xml",
  "multipart/form-data",
  "multipart/form-data; boundary=zzz",
  "application/json; charset=utf-16",
  "APPLICATION/JSON",
  "application/problem+json",
  "application/jsonx",
  "application/json-patch+json",
  "*/*",
  "}{",
  "application/",
  "text/json",
  "application/json, text/plain",
  "application/octet-stream",
  "image/png",
];

function generateJsonContentType(): Arb<string | null> {
  return choose<string | null>(
    [10, fc.constant("application/json"), ""],
    [1, fc.constant("application/json; charset=utf-8"), ""],
    [1, fc.constant(null), "ctype:none"],
    [3, fc.oneof(fc.constantFrom(...CONTENT_TYPES), oddHeaderValue), "ctype:odd"],
  );
}

function generateFilePart(name: string, w: FuzzWorld): Arb<FilePart> {
  const imgs = Object.entries(w.images);
  const good = imgs.filter(([k]) => ["png", "jpeg", "webp"].includes(k));
  return choose(
    [5, pickFrom(good).map(([, i]) => ({ name, ...i })), "file:image"],
    [3, pickFrom(imgs).map(([, i]) => ({ name, ...i })), "file:odd"],
    [
      2,
      fc
        .tuple(
          fc.uint8Array({ maxLength: 300 }),
          fc.constantFrom("x.png", "x.jpg", "", "../../x.png", "😀.webp", "x\u0000.png"),
        )
        .map(([bytes, filename]) => ({
          name,
          filename,
          type: "image/png",
          bytes: Buffer.from(bytes).toString("base64"),
        })),
      "file:random-bytes",
    ],
    [
      1,
      fc.tuple(pickFrom(good), fc.nat()).map(([[, i], cut]) => {
        const b = Buffer.from(i.bytes, "base64");
        return { name, ...i, bytes: b.subarray(0, cut % b.length).toString("base64") };
      }),
      "file:truncated",
    ],
  );
}

/** A multipart body from the schema's fields and files, with parts added, renamed or doubled. */
function generateFormBody(shape: BodyShape, w: FuzzWorld): Arb<FuzzBody> {
  /** Present in `present` of `present + absent` cases. */
  const sometimes = <T>(arb: Arb<T>, present: number, absent: number): fc.Arbitrary<Piece<T> | null> =>
    fc.oneof({ weight: present, arbitrary: arb }, { weight: absent, arbitrary: fc.constant(null) });
  // Files (the point of a multipart body) and required fields usually; optional strings (an
  // upload_key beside the file) now and then.
  const strings = shape.fields.map(([k, s]) =>
    sometimes(
      generateField(k, s, w).map((p) => ({ v: { name: k, value: String(p.v) } as FormPart, tags: p.tags })),
      shape.required.has(k) ? 7 : 1,
      shape.required.has(k) ? 1 : 3,
    ),
  );
  const files = shape.files.map((k) => sometimes(generateFilePart(k, w), 7, 1));
  const extra = choose<FormPart[]>(
    [8, fc.constant([]), ""],
    [1, generateFilePart("file", w).map((p) => [p.v, p.v]), "form:two-files"],
    [1, generateFilePart("avatar", w).map((p) => [p.v]), "form:unknown-file"],
    [
      1,
      fc
        .tuple(fc.constantFrom("extra", "", "__proto__"), oddString)
        .map(([name, value]) => [{ name, value }]),
      "form:unknown-field",
    ],
    [1, fc.constant([{ name: shape.files[0] ?? "file", value: "not a file" }]), "form:string-for-file"],
  );
  return fc.tuple(fc.tuple(...strings), fc.tuple(...files), extra).map(([ss, fs, ex]) => {
    const present = [...ss, ...fs].filter((p): p is Piece<FormPart> => p !== null);
    return {
      v: { kind: "form", parts: [...present.map((p) => p.v), ...ex.v] },
      tags: ["body:form", ...concatTags(...present, ex)],
    };
  });
}

/** Bytes that claim to be multipart and are not. */
const multipartGarbage: Arb<{ body: FuzzBody; type: string }> = choose<{ body: FuzzBody; type: string }>(
  [
    1,
    fc.uint8Array({ maxLength: 400 }).map((b) => ({
      body: { kind: "bytes" as const, base64: Buffer.from(b).toString("base64") },
      type: "multipart/form-data; boundary=XyZ",
    })),
    "",
  ],
  [
    1,
    fc
      .constantFrom(
        '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n\x89PNG',
        "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--",
        "--XyZ--",
        "--other\r\n\r\n--other--",
        `--XyZ\r\nContent-Disposition: form-data; name="text"\r\n\r\n${"x".repeat(10_000)}`,
      )
      .map((t) => ({ body: { kind: "text" as const, text: t }, type: "multipart/form-data; boundary=XyZ" })),
    "",
  ],
  [1, fc.constant({ body: { kind: "text" as const, text: "a=1" }, type: "multipart/form-data" }), ""],
);

interface BodyAndType {
  body: FuzzBody | null;
  type: string | null;
}

function generateBody(op: Operation, w: FuzzWorld): Arb<BodyAndType> {
  if (!op.body) {
    return choose<BodyAndType>(
      [12, fc.constant({ body: null, type: null }), ""],
      [
        1,
        fc
          .tuple(
            fc.jsonValue({ maxDepth: 2 }),
            fc.constantFrom("application/json", "text/plain", "multipart/form-data"),
          )
          .map(([v, type]) => ({ body: { kind: "text" as const, text: JSON.stringify(v) ?? "null" }, type })),
        "body:unexpected",
      ],
    );
  }
  const shape = readBodyShape(op);
  const json = fc
    .tuple(generateJsonBody(shape, generateValidObject(shape, w)), generateJsonContentType())
    .map(([b, t]) => ({ v: { body: b.v, type: t.v }, tags: [...b.tags, ...t.tags] }));
  const form = generateFormBody(shape, w).map((b) => ({ v: { body: b.v, type: null }, tags: b.tags }));
  const garbage = multipartGarbage.map((g) => ({ v: g.v, tags: ["body:multipart-garbage"] }));
  const takesFiles = shape.files.length > 0;
  return fc.oneof(
    { weight: takesFiles ? 6 : 12, arbitrary: json },
    { weight: takesFiles ? 8 : 2, arbitrary: form },
    { weight: 1, arbitrary: garbage },
  );
}

// ---------------------------------------------------------------- requests

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

function generateOperationRequest(op: Operation, w: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((p) => p.in === "path");
  const segments = fc.tuple(...pathParams.map((p) => generatePathParam(op, p, w)));
  const method = choose(
    [30, fc.constant(op.method), ""],
    [1, fc.constantFrom(...METHODS.filter((m) => m !== op.method)), "method:wrong"],
  );
  return fc
    .record({
      segments,
      query: generateQuery(op, w),
      auth: generateAuthorization(w),
      idem: generateIdempotencyKey(op),
      declared: generateHeaderParams(op, w),
      extra: extraHeaders,
      cookie: generateCookie(op, w),
      body: generateBody(op, w),
      method,
      copies: choose([40, fc.constant(1), ""], [1, fc.constantFrom(2, 4), "concurrent"]),
    })
    .map((g) => {
      let url = op.path;
      pathParams.forEach((p, i) => {
        url = url.replace(`{${p.name}}`, g.segments[i]!.v);
      });
      const headers: [string, string][] = [];
      if (g.auth.v !== null) headers.push(["authorization", g.auth.v]);
      if (g.idem.v !== null) headers.push(["idempotency-key", g.idem.v]);
      if (g.body.v.type !== null) headers.push(["content-type", g.body.v.type]);
      headers.push(...g.declared.v, ...g.cookie.v, ...g.extra.v);
      const tags = concatTags(
        ...g.segments,
        g.query,
        g.auth,
        g.idem,
        g.declared,
        g.extra,
        g.cookie,
        g.body,
        g.method,
        g.copies,
      );
      const m = g.method.v;
      return {
        op: op.key,
        method: m,
        url: `${url}${g.query.v}`,
        headers: headers.filter(([, v]) => headerSafe(v)),
        // A body on GET or HEAD is not something fetch lets a client send.
        body: m === "GET" || m === "HEAD" ? null : g.body.v.body,
        copies: g.copies.v,
        tags,
      };
    });
}

const generateUnroutedRequest = (w: FuzzWorld): fc.Arbitrary<FuzzRequest> =>
  fc
    .record({
      method: fc.constantFrom(...METHODS),
      path: fc.oneof(
        fc.constantFrom(
          "/",
          "/posts/1/2/3",
          "/%00",
          "/me/",
          "/ME",
          "/feed/",
          "//feed",
          "/posts/popular/x",
          "/auth",
          "/auth/oidc",
          "/openapi.json/x",
          "/likes",
          "/follows",
          "/uploads/x",
          `/${"a".repeat(5000)}`,
          "/%F0%9F%98%80",
          "/users",
          "/metrics/x",
        ),
        fc
          .array(fc.oneof(fc.webSegment(), oddString.map(encodeSegment)), { minLength: 1, maxLength: 4 })
          .map((s) => `/${s.join("/")}`),
      ),
      auth: generateAuthorization(w),
    })
    .map((g) => ({
      op: "unrouted",
      method: g.method,
      url: g.path,
      headers: g.auth.v !== null ? ([["authorization", g.auth.v]] as [string, string][]) : [],
      body: null,
      copies: 1,
      tags: ["unrouted", ...g.auth.tags],
    }));

/** One request for any operation of the document (or for none: a path or method it lacks). */
export function generateRequests(ops: readonly Operation[], w: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(...ops.map((op) => generateOperationRequest(op, w)), generateUnroutedRequest(w));
}
