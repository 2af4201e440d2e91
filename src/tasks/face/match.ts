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
