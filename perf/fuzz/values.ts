import fc from "fast-check";

// Hostile values, by kind: strings, numbers, ids, cursors, header values. Each list is what a
// careless or malicious client sends; the generator mixes them into otherwise valid requests.

/** Strings that have broken parsers, databases and terminals before. */
export const ODD_STRINGS = [
  "",
  " ",
  "\t\n\r",
  "\u0000",
  "a\u0000b",
  "\u0001\u001f\u007f\u0085",
  "\ud800",
  "\udfff",
  "x\ud83d",
  "\ude00x",
  "\u202eevil\u202c",
  "\u200f\u200e\u061c",
  "\u200b\u200d\ufeff",
  "\uffff\ufffe",
  "\u{10ffff}\u{e0001}",
  "👨‍👩‍👧‍👦🇺🇦👍🏽",
  `Z${"\u0336\u0321\u0327\u031b".repeat(200)}`,
  "１２３",
  "١٢٣",
  "²³",
  "null",
  "undefined",
  "NaN",
  "[]",
  "{}",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "'; DROP TABLE posts; --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template injection probe, sent as is
  "${7*7}{{7*7}}",
  "%00%s%n%x",
  "../../../etc/passwd",
  "\\",
  '"',
  "\r\nX-Injected: 1",
  "ａｄｍｉｎ",
  "İıſK",
];

export const oddString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...ODD_STRINGS), weight: 4 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 30 }), weight: 2 },
  { arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }), weight: 1 },
  {
    arbitrary: fc
      .array(fc.constantFrom(...ODD_STRINGS), { minLength: 2, maxLength: 6 })
      .map((parts) => parts.join("")),
    weight: 1,
  },
);

/** Numbers as JSON text: what JSON.stringify would never write, and the edges of the types. */
export const RAW_NUMBERS = [
  "1e309",
  "-1e309",
  "-0",
  "1e-400",
  "0.5",
  "-1",
  "0",
  "2147483648",
  "9007199254740993",
  "9223372036854775807",
  "9223372036854775808",
  "18446744073709551616",
  "123456789012345678901234567890",
  "1E2",
  "0.0000001",
  "4.9e-324",
  "1.7976931348623157e308",
];

/** Ids as they appear in paths and bodies: everything but a positive int64 in decimal. */
export const BOGUS_IDS = [
  "0",
  "-1",
  "-0",
  "00",
  "01",
  "1.0",
  "1e3",
  "0x1F",
  "+1",
  " 1",
  "1 ",
  "9223372036854775808",
  "18446744073709551616",
  "99999999999999999999999999",
  "1".repeat(400),
  "abc",
  "１２３",
  "١٢٣",
  "NaN",
  "null",
  "true",
  "1;DROP TABLE posts",
  "1\u0000",
  "\ud800",
  "\u202e1",
  "👍",
];

/** Path segments already percent-encoded (or deliberately mis-encoded). */
export const RAW_SEGMENTS = [
  "%00",
  "%ZZ",
  "%",
  "%2F",
  "%C0%AF",
  "%E2%80%AE1",
  "%F0%9F%91%8D",
  "1%20",
  "%7B%7D",
  "%25",
];

/** A visible-ASCII or Latin-1 header value: the most a Request (and an HTTP parser) lets through. */
export const headerSafe = (s: string) => /^[\t\x20-\x7e\x80-\xff]*$/.test(s);

export const oddHeaderValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("", " ", "\t", "é", "\xff\xfe", "a b", '"', '""', "x".repeat(8_000), "null", "undefined"),
  fc.string({
    unit: fc.constantFrom(..."\t !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\x80\xa0\xe9\xff"),
    maxLength: 40,
  }),
);

/** base64url of "<kind>.<at>.<id>": the cursor format, filled with wrong parts. */
const crafted = (s: string) => Buffer.from(s, "utf8").toString("base64url");
export const CRAFTED_CURSORS = [
  "feed.-1.1",
  "feed.1e3.1",
  "feed.999999999999999.9223372036854775807",
  "feed.9999999999999999.1",
  "feed.0.0",
  "feed.1.9223372036854775808",
  "feed.1.-1",
  "feed..",
  "feed.1.1.1",
  "FEED.1.1",
  "feed.1.1\u0000",
  "popular.1.1",
  "user_posts.1.1",
  "user_posts.1735689600000.1",
  "feed.\u0661.1",
  "admin.1.1",
].map(crafted);

/** Bogus cursors around real ones: tampered, truncated, swapped between lists, or invented. */
export function generateBogusCursor(real: readonly string[]): fc.Arbitrary<string> {
  const arbs: fc.Arbitrary<string>[] = [
    fc.constantFrom(...CRAFTED_CURSORS),
    fc.base64String({ maxLength: 64 }),
    fc
      .base64String({ maxLength: 64 })
      .map((s) => s.replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "")),
    fc.constantFrom(
      "",
      "=",
      "-",
      "_",
      "a".repeat(128),
      "a".repeat(129),
      "Zm9v",
      "bnVsbA",
      "%00",
      "😀",
      "\ud800",
    ),
    oddString,
  ];
  if (real.length > 0) {
    const one = fc.constantFrom(...real);
    arbs.push(
      fc.tuple(one, fc.nat()).map(([c, i]) => {
        const at = i % c.length;
        const ch = c[at] === "A" ? "B" : "A";
        return `${c.slice(0, at)}${ch}${c.slice(at + 1)}`;
      }),
      fc.tuple(one, fc.nat()).map(([c, i]) => c.slice(0, i % c.length)),
      one.map((c) => `${c}=`),
      one.map((c) => `${c}${c}`),
    );
  }
  return fc.oneof(...arbs);
}

/** Nested JSON text `depth` levels deep (arrays or objects), as one string. */
export function nestJson(depth: number, kind: "array" | "object"): string {
  return kind === "array"
    ? `${"[".repeat(depth)}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

/** Invalid UTF-8 (overlong forms, CESU surrogates, stray continuation bytes, truncation). */
export const BAD_UTF8 = [
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xf0, 0x80, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xff, 0xfe],
  [0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
];
