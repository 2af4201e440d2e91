/** How far two RGB buffers differ: the share of pixels off by more than 2/255 and the worst channel difference. */
export function seamError(a: Uint8Array, b: Uint8Array): { over2: number; worst: number } {
  let over2 = 0;
  let worst = 0;
  for (let i = 0; i < a.length; i += 3) {
    const d = Math.max(Math.abs(a[i]! - b[i]!), Math.abs(a[i + 1]! - b[i + 1]!), Math.abs(a[i + 2]! - b[i + 2]!));
    if (d > 2) over2 += 1;
    worst = Math.max(worst, d);
  }
  return { over2: over2 / (a.length / 3), worst };
}
