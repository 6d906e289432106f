// Thumbnail worker throughput: the media group's pipeline (EXIF rotate, WebP 320 and
// 1080 wide) on ~1 MB photos, one image at a time with libvips on one thread as in the
// projector; against a baseline measured in the same run: decoding the same photo alone.
// Run: bun perf/thumbs.ts [count]
import sharp from "sharp";

const COUNT = Number(process.argv[2] ?? 40);
sharp.concurrency(1);

async function photo(): Promise<Buffer> {
  // Smoothed noise compresses like a photograph: aim for about 1 MB of JPEG.
  const w = 2400;
  const h = 1600;
  const noise = Buffer.from(crypto.getRandomValues(new Uint8Array(w * h * 3)).map((v) => v));
  return sharp(noise, { raw: { width: w, height: h, channels: 3 } })
    .blur(1.2)
    .jpeg({ quality: 88 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

let peak = 0;
const sample = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5);

async function time(name: string, f: () => Promise<unknown>): Promise<number> {
  await f(); // warm-up
  const t = performance.now();
  for (let i = 0; i < COUNT; i++) await f();
  const perSecond = COUNT / ((performance.now() - t) / 1000);
  console.log(`${name.padEnd(32)} ${perSecond.toFixed(2).padStart(7)} images/s`);
  return perSecond;
}

const input = await photo();
console.log(
  `input: ${(input.length / 1e6).toFixed(2)} MB JPEG, 2400×1600, EXIF orientation 6; ${COUNT} runs each`,
);
const base = await time("decode only (baseline)", () => sharp(input).raw().toBuffer());
const rssBefore = process.memoryUsage().rss;
peak = rssBefore;
// The worker's pipeline (projector/media/make-thumbnails.ts): 1080 from the original, 320 from it.
const thumbs = await time("rotate + WebP 1080, then 320", async () => {
  let source: Buffer = input;
  for (const width of [1080, 320]) {
    source = await sharp(source, { limitInputPixels: 40_000_000, failOn: "error" })
      .rotate()
      .resize({ width, withoutEnlargement: true })
      .webp({ quality: 80, effort: 2 })
      .toBuffer();
  }
});
clearInterval(sample);
console.log(
  `ratio to decode-only: ${(thumbs / base).toFixed(2)}×; peak RSS ${(peak / 1e6).toFixed(0)} MB (${((peak - rssBefore) / 1e6).toFixed(0)} MB above the start of the run)`,
);
