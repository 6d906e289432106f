// The one pseudo-random generator of the perf tools: deterministic from a seed, so the seeder
// (perf/seed) makes the same rows on a rerun and the chaos and cluster scenarios the same graph.

/** sfc32: a small, fast PRNG with a 128-bit state; [0, 1) floats. `stream` picks an independent sequence. */
export function rng(seed: number, stream = 0): () => number {
  let a = seed >>> 0;
  let b = (stream * 0x9e3779b9) >>> 0;
  let c = 0x243f6a88;
  let d = 1;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}
