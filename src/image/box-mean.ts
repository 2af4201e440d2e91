/** Mean over a (2r+1)² window clipped to the image (running sums along rows, then columns). */
export function boxMean(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const rows = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let sum = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) sum += src[o + x]!;
    for (let x = 0; x < w; x++) {
      const lo = x - r - 1;
      const hi = x + r;
      rows[o + x] = sum / (Math.min(hi, w - 1) - Math.max(lo, -1));
      if (hi + 1 < w) sum += src[o + hi + 1]!;
      if (lo + 1 >= 0) sum -= src[o + lo + 1]!;
    }
  }
  const out = new Float32Array(src.length);
  for (let x = 0; x < w; x++) {
    let sum = 0;
    for (let y = 0; y <= Math.min(r, h - 1); y++) sum += rows[y * w + x]!;
    for (let y = 0; y < h; y++) {
      const lo = y - r - 1;
      const hi = y + r;
      out[y * w + x] = sum / (Math.min(hi, h - 1) - Math.max(lo, -1));
      if (hi + 1 < h) sum += rows[(hi + 1) * w + x]!;
      if (lo + 1 >= 0) sum -= rows[(lo + 1) * w + x]!;
    }
  }
  return out;
}
