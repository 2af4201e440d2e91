/**
 * Colour maps for depth images, t in 0..1 → 8-bit RGB. Both are published polynomial fits of the
 * originals: Turbo's by its author (Google AI blog, 2019; Apache-2.0) and Inferno's degree-6 fit
 * (matplotlib's inferno is CC0). They follow the originals closely except at Turbo's darkest end,
 * where the fit gives (35, 23, 27) for the original's (48, 18, 59); from t = 0.1 on it is blue as it should be.
 */
export type Colormap = 'gray' | 'inferno' | 'turbo';

const clamp = (v: number) => Math.min(255, Math.max(0, Math.round(v * 255)));
const poly = (c: readonly number[], t: number) => c.reduceRight((acc, k) => acc * t + k, 0);

const INFERNO = [
  [0.0002189403691192265, 0.1065134194856116, 11.60249308247187, -41.70399613139459, 77.162935699427, -71.31942824499214, 25.13112622477341],
  [0.001651004631001012, 0.5639564367884091, -3.972853965665698, 17.43639888205313, -33.40235894210092, 32.62606426397723, -12.24266895238567],
  [-0.01948089843709184, 3.932712388889277, -15.9423941062914, 44.35414519872813, -81.80730925738993, 73.20951985803202, -23.07032500287172],
] as const;

const TURBO = [
  [0.13572138, 4.6153926, -42.66032258, 132.13108234, -152.94239396, 59.28637943],
  [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604],
  [0.1066733, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973],
] as const;

export function colour(map: Exclude<Colormap, 'gray'>, t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const c = map === 'inferno' ? INFERNO : TURBO;
  return [clamp(poly(c[0], x)), clamp(poly(c[1], x)), clamp(poly(c[2], x))];
}

/** The 256 colours of a map, for one lookup per pixel. */
export function lut(map: Exclude<Colormap, 'gray'>): Uint8Array {
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) out.set(colour(map, i / 255), i * 3);
  return out;
}
