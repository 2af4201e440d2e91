import sharp from 'sharp';

/** A synthetic scene: the true background, and the same with an object painted over it. */
export interface Scene {
  width: number;
  height: number;
  /** The background without the object: what a perfect fill restores. */
  truth: Uint8Array;
  /** The photo as sent: background with the object. */
  photo: Uint8Array;
  /** 1 where the object is (and so what is erased). */
  hole: Uint8Array;
}

function scene(width: number, height: number, bg: (x: number, y: number) => [number, number, number], object?: { cx: number; cy: number; r: number }): Scene {
  const truth = new Uint8Array(width * height * 3);
  const hole = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) truth.set(bg(x, y), (y * width + x) * 3);
  const photo = new Uint8Array(truth);
  const o = object ?? { cx: width / 2, cy: height / 2, r: Math.min(width, height) / 6 };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = (x - o.cx) ** 2 + (y - o.cy) ** 2 <= o.r ** 2;
      // The mask is drawn a little wider than the object, as a user's brush is.
      if ((x - o.cx) ** 2 + (y - o.cy) ** 2 <= (o.r + 3) ** 2) hole[y * width + x] = 1;
      if (inside) photo.set([230, 20, 30], (y * width + x) * 3);
    }
  }
  return { width, height, truth, photo, hole };
}

export const gradientScene = (w = 200, h = 160) => scene(w, h, (x, y) => [Math.round((200 * x) / w), Math.round((180 * y) / h), 90]);

export const stripesScene = (w = 200, h = 160) => scene(w, h, (x, y) => (Math.floor((x + y) / 10) % 2 ? [210, 200, 60] : [40, 60, 150]));

/** Deterministic noisy texture on a mid green (grass-like), where only an exemplar fill keeps the grain. */
export function textureScene(w = 220, h = 180): Scene {
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) % 1000) / 1000;
  const grain = Array.from({ length: w * h }, () => rnd());
  return scene(w, h, (x, y) => {
    const g = grain[y * w + x]!;
    const v = Math.round(60 * g + 20 * Math.sin(x / 3) * Math.cos(y / 4));
    return [40 + v, 110 + v, 40 + Math.round(v / 2)];
  });
}

export async function png(rgb: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

export async function maskPngOf(hole: Uint8Array, width: number, height: number, size = { width, height }): Promise<Buffer> {
  return sharp(Buffer.from(hole.map((v) => v * 255)), { raw: { width, height, channels: 1 } }).resize(size.width, size.height, { kernel: 'nearest' }).png().toBuffer();
}

export async function rgbOf(image: Buffer): Promise<Uint8Array> {
  return new Uint8Array(await sharp(image).removeAlpha().raw().toBuffer());
}

/** RMS error over the hole against the truth. */
export function holeRms(s: Scene, out: Uint8Array): number {
  let sum = 0, n = 0;
  for (let i = 0; i < s.width * s.height; i++) {
    if (!s.hole[i]) continue;
    for (let c = 0; c < 3; c++) sum += (out[i * 3 + c]! - s.truth[i * 3 + c]!) ** 2;
    n += 3;
  }
  return Math.sqrt(sum / n);
}

/**
 * The blur-fill baseline: each hole pixel the mean of the known pixels within a window as wide as
 * the hole (normalised convolution), which is what a smooth fill can at best do.
 */
export function blurFill(s: Scene, radius: number): Uint8Array {
  const out = new Uint8Array(s.photo);
  const { width: w, height: h } = s;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!s.hole[y * w + x]) continue;
      const sum = [0, 0, 0];
      let n = 0;
      for (let yy = Math.max(0, y - radius); yy <= Math.min(h - 1, y + radius); yy++) {
        for (let xx = Math.max(0, x - radius); xx <= Math.min(w - 1, x + radius); xx++) {
          const j = yy * w + xx;
          if (s.hole[j]) continue;
          for (let c = 0; c < 3; c++) sum[c] = sum[c]! + s.photo[j * 3 + c]!;
          n++;
        }
      }
      for (let c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = Math.round(sum[c]! / Math.max(1, n));
    }
  }
  return out;
}

/** Mean squared Laplacian over the hole: the fine grain a fill has (0 for a smooth one). */
export function holeDetail(s: Scene, img: Uint8Array): number {
  const { width: w, height: h } = s;
  let sum = 0, n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      if (!s.hole[i]) continue;
      const g = (k: number) => img[k * 3 + 1]!;
      const lap = 4 * g(i) - g(i - 1) - g(i + 1) - g(i - w) - g(i + w);
      sum += lap * lap;
      n++;
    }
  }
  return sum / n;
}

/** Pixels in the hole still the object's red. */
export function objectLeft(s: Scene, img: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < s.width * s.height; i++) if (s.hole[i] && img[i * 3]! > 180 && img[i * 3 + 1]! < 60) n++;
  return n;
}
