/** Interleaved pixels with RGB first (3 or 4 channels), like RawImage. */
export interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The RGB of a rectangle inside the image, tightly packed. */
export function cropRgb(image: Pixels, r: Rect): Uint8Array {
  const out = new Uint8Array(r.width * r.height * 3);
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) {
      const src = ((r.y + y) * image.width + r.x + x) * image.channels;
      for (let c = 0; c < 3; c++) out[(y * r.width + x) * 3 + c] = image.data[src + c]!;
    }
  }
  return out;
}

/**
 * Writes `base + w·(over − base)` into the rectangle's RGB, per pixel weight w = `weight(i)`;
 * pixels weighted 0 are not touched at all (their bytes stay the image's). Alpha is kept.
 * Returns how many pixels were written.
 */
export function blendRgb(image: Pixels, r: Rect, base: Uint8Array, over: Uint8Array, weight: (i: number) => number): number {
  let written = 0;
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) {
      const i = y * r.width + x;
      const w = weight(i);
      if (w === 0) continue;
      written++;
      const dst = ((r.y + y) * image.width + r.x + x) * image.channels;
      for (let c = 0; c < 3; c++) image.data[dst + c] = Math.round(base[i * 3 + c]! + w * (over[i * 3 + c]! - base[i * 3 + c]!));
    }
  }
  return written;
}
