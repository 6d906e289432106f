import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import { mediaFilename, mediaKeys, sniffImage } from "./media.ts";

const make = (format: "jpeg" | "png" | "webp" | "gif" | "tiff") =>
  sharp({ create: { width: 4, height: 3, channels: 3, background: "#c33" } })
    .toFormat(format)
    .toBuffer()
    .then((b) => new Uint8Array(b));
const text = (s: string) => new TextEncoder().encode(s);

describe("magic-byte sniffing", () => {
  test("recognises real JPEG, PNG and WebP files", async () => {
    expect(sniffImage(await make("jpeg"))).toBe("jpeg");
    expect(sniffImage(await make("png"))).toBe("png");
    expect(sniffImage(await make("webp"))).toBe("webp");
  });

  test("refuses other images and impostors, whatever they are called", async () => {
    expect(sniffImage(await make("gif"))).toBeNull();
    expect(sniffImage(await make("tiff"))).toBeNull();
    for (const s of [
      "<html><script>alert(1)</script></html>",
      '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
      "#!/bin/sh\nrm -rf /",
      "GIF89a",
      "RIFF\u0000\u0000\u0000\u0000WAVEfmt ",
      "",
    ]) {
      expect(sniffImage(text(s))).toBeNull();
    }
    // A PNG signature without its IHDR chunk is not a PNG.
    expect(
      sniffImage(
        new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0, 0x58, 0x58, 0x58, 0x58]),
      ),
    ).toBeNull();
    // Too short to decide.
    expect(sniffImage(new Uint8Array([0xff, 0xd8]))).toBeNull();
  });
});

describe("keys", () => {
  test("are generated, unguessable and carry the sniffed type's extension", () => {
    const a = mediaFilename("jpeg");
    const b = mediaFilename("jpeg");
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}\.jpg$/);
    expect(a).not.toBe(b);
    expect(mediaFilename("webp")).toMatch(/\.webp$/);
    expect(mediaKeys.avatar("7", a)).toBe(`users/7/avatars/${a}`);
    expect(mediaKeys.postImage("9", a)).toBe(`posts/9/${a}`);
  });
});
