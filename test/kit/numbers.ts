/** float → IEEE half bits, round to nearest; enough for the normal-range test values. */
export function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const bits = new Uint32Array(f.buffer)[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const mant = bits & 0x7fffff;
  if (v === 0) return sign;
  if (exp <= 0 || exp >= 31) throw new Error(`toHalf: ${v} is outside the normal half range`);
  return sign | (exp << 10) | Math.round(mant / 8192);
}

/** Deterministic pseudo-random values in [lo, hi), rounded to 1/64 so they are exact in fp16. */
export function values(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.round((lo + ((hi - lo) * s) / 2147483648) * 64) / 64;
  });
}
