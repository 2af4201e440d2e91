/**
 * Cosine similarity at or above which two faces are called the same person.
 *
 * Measured with bench/faces.ts (`--threshold`) on the six fixture faces (faces-group-1/2.jpg) and
 * seven augmented copies of each photo (mirror, ½ and ⅓ scale, JPEG q40, +30 % brightness, 8°
 * rotation, blur): 168 same-person pairs, 960 different-person pairs.
 *   same person:      median 0.961, p5 0.586, min 0.254 (all below 0.795 involve the one profile face)
 *   different people: median 0.083, p95 0.265, max 0.336
 * At 0.40 no different-person pair matches (0 / 960) and 3 / 168 same-person pairs (1.8 %, all of
 * the profile face) do not; 0.35 would sit within 0.014 of the highest impostor score.
 */
export const DEFAULT_MATCH_THRESHOLD = 0.4;

/**
 * Our cosine similarity on another service's 0–1 scale, for drop-in APIs whose clients hold that
 * service's threshold: piecewise linear, so DEFAULT_MATCH_THRESHOLD lands exactly on `threshold`,
 * 1 stays 1 and 0 (or less) is 0. Monotonic, so rankings do not change.
 */
export function onScale(cosine: number, threshold: number): number {
  const t = DEFAULT_MATCH_THRESHOLD;
  const c = Math.min(1, Math.max(0, cosine));
  return c >= t ? threshold + ((1 - threshold) * (c - t)) / (1 - t) : (threshold * c) / t;
}
