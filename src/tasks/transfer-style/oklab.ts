/**
 * sRGB ↔ Oklab (Björn Ottosson, 2020): a perceptual space whose axes are close to uncorrelated for
 * natural images, which is what Reinhard et al.'s per-channel statistics transfer assumes (their
 * lαβ plays the same role; Oklab predicts lightness and hue better).
 */

/** sRGB 8-bit → linear light. */
const TO_LINEAR = Float32Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

/** Linear light → sRGB 0..255, sampled finely enough that its rounding error stays under ¼ level. */
const ENCODE_STEPS = 16384;
const FROM_LINEAR = Float32Array.from({ length: ENCODE_STEPS + 1 }, (_, i) => {
  const c = i / ENCODE_STEPS;
  return 255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
});

/** Interleaved RGB(A) 8-bit pixels → interleaved Lab floats, 3 per pixel. */
export function rgbToOklab(data: Uint8Array, channels: number, out = new Float32Array((data.length / channels) * 3), from = 0, to = data.length / channels): Float32Array {
  for (let p = from; p < to; p++) {
    const i = p * channels;
    const r = TO_LINEAR[data[i]!]!;
    const g = TO_LINEAR[data[i + 1]!]!;
    const b = TO_LINEAR[data[i + 2]!]!;
    const l = Math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
    const m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
    const s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
    out[p * 3] = 0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s;
    out[p * 3 + 1] = 1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s;
    out[p * 3 + 2] = 0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s;
  }
  return out;
}

const encode = (v: number) => FROM_LINEAR[Math.round((v <= 0 ? 0 : v >= 1 ? 1 : v) * ENCODE_STEPS)]!;

/** Interleaved Lab → the RGB channels of interleaved 8-bit pixels (other channels untouched); out-of-gamut colours are clipped per channel. */
export function oklabToRgb(lab: Float32Array, out: Uint8Array, channels: number, from = 0, to = lab.length / 3): void {
  for (let p = from; p < to; p++) {
    const L = lab[p * 3]!;
    const A = lab[p * 3 + 1]!;
    const B = lab[p * 3 + 2]!;
    const l = (L + 0.3963377774 * A + 0.2158037573 * B) ** 3;
    const m = (L - 0.1055613458 * A - 0.0638541728 * B) ** 3;
    const s = (L - 0.0894841775 * A - 1.291485548 * B) ** 3;
    const i = p * channels;
    out[i] = Math.round(encode(4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s));
    out[i + 1] = Math.round(encode(-1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s));
    out[i + 2] = Math.round(encode(-0.0041960863 * l - 0.7034186147 * m + 1.707614701 * s));
  }
}
