// Bounded concurrency for the perf tools' fan-out of requests.

/** Runs `fn` over `items` with at most `n` at a time; the results in the items' order. */
export async function limited<T, R>(
  items: readonly T[],
  n: number,
  fn: (t: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}
