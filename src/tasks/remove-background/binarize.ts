import type { Mask } from './mask.js';

/** OpenCV's 5-tap Gaussian at σ = 2, normalised. */
const GAUSS5 = (() => {
  const w = [-2, -1, 0, 1, 2].map((x) => Math.exp(-(x * x) / 8));
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / sum);
})();

/** 3×3 elliptical erosion or dilation (OpenCV's MORPH_ELLIPSE 3×3 is a cross); pixels beyond the border do not count. */
function cross(mask: Mask, pick: (a: number, b: number) => number): Uint8Array {
  const { data, width: w, height: h } = mask;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let v = data[i]!;
      if (x > 0) v = pick(v, data[i - 1]!);
      if (x < w - 1) v = pick(v, data[i + 1]!);
      if (y > 0) v = pick(v, data[i - w]!);
      if (y < h - 1) v = pick(v, data[i + w]!);
      out[i] = v;
    }
  }
  return out;
}

/** Reflect-101 border (OpenCV's default): index −1 reads 1, n reads n − 2. */
const reflect = (i: number, n: number) => (n === 1 ? 0 : i < 0 ? -i : i >= n ? 2 * n - 2 - i : i);

function gaussian5(data: Uint8Array, w: number, h: number): Float32Array {
  const tmp = new Float32Array(data.length);
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let s = 0;
    for (let k = -2; k <= 2; k++) s += GAUSS5[k + 2]! * data[y * w + reflect(x + k, w)]!;
    tmp[y * w + x] = s;
  }
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let s = 0;
    for (let k = -2; k <= 2; k++) s += GAUSS5[k + 2]! * tmp[reflect(y + k, h) * w + x]!;
    out[y * w + x] = s;
  }
  return out;
}

/**
 * rembg's `post_process_mask` (the `ppm` parameter): a morphological opening that removes specks
 * and hairlines, a 5×5 Gaussian (σ 2) that rounds the outline, then a hard cut at 127.
 */
export function binarizeMask(mask: Mask): Mask {
  const opened = cross({ ...mask, data: cross(mask, Math.min) }, Math.max);
  const blurred = gaussian5(opened, mask.width, mask.height);
  const data = new Uint8Array(blurred.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(blurred[i]!) < 127 ? 0 : 255;
  return { ...mask, data };
}
