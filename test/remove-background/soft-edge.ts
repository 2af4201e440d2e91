import type { RawImage } from '../../src/image/raw.js';
import type { Mask } from '../../src/tasks/remove-background/mask.js';
import { values } from '../kit/numbers.js';

export const W = 320;
export const H = 240;

/**
 * A disc with a soft rim and a ring of thin "strands" (true alpha known per pixel), composited
 * from a textured red foreground over a textured blue background.
 */
export function softEdgeScene(): { photo: RawImage; alpha: Float32Array } {
  const alpha = new Float32Array(W * H);
  const noise = values(W * H, 11, -12, 12);
  const data = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const d = Math.hypot(x - 160, y - 120);
    const angle = Math.atan2(y - 120, x - 160);
    const strand = d > 80 && d < 100 && Math.abs(Math.sin(angle * 24)) > 0.97 ? 0.8 : 0;
    const a = Math.max(1 / (1 + Math.exp((d - 80) / 2)), strand);
    const i = y * W + x;
    alpha[i] = a;
    const n = noise[i]!;
    const fg = [200 + n, 60 + n, 40];
    const bg = [40, 90 + n, 200 + n];
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.round(a * fg[c]! + (1 - a) * bg[c]!);
  }
  return { photo: { data, width: W, height: H, channels: 3 }, alpha };
}

/** What a segmenter gives: the true alpha seen at 1/8 resolution, stretched back bilinearly. */
export function lowResMask(alpha: Float32Array): Mask {
  const s = 8;
  const sw = W / s;
  const sh = H / s;
  const small = new Float32Array(sw * sh);
  for (let y = 0; y < sh; y++) for (let x = 0; x < sw; x++) {
    let sum = 0;
    for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) sum += alpha[(y * s + dy) * W + x * s + dx]!;
    small[y * sw + x] = sum / (s * s);
  }
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const fx = Math.min(Math.max((x + 0.5) / s - 0.5, 0), sw - 1);
    const fy = Math.min(Math.max((y + 0.5) / s - 0.5, 0), sh - 1);
    const [x0, y0] = [Math.floor(fx), Math.floor(fy)];
    const [x1, y1] = [Math.min(x0 + 1, sw - 1), Math.min(y0 + 1, sh - 1)];
    const [tx, ty] = [fx - x0, fy - y0];
    const v = (small[y0 * sw + x0]! * (1 - tx) + small[y0 * sw + x1]! * tx) * (1 - ty) + (small[y1 * sw + x0]! * (1 - tx) + small[y1 * sw + x1]! * tx) * ty;
    data[y * W + x] = Math.round(v * 255);
  }
  return { data, width: W, height: H };
}

export const meanError = (mask: Mask, alpha: Float32Array) => mask.data.reduce((s, v, i) => s + Math.abs(v / 255 - alpha[i]!), 0) / alpha.length;
