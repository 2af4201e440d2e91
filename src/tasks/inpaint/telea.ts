import { MinHeap } from './min-heap.js';

const KNOWN = 0;
const BAND = 1;
const INSIDE = 2;
const FAR = 1e6;

/**
 * The solution of |∇T| = 1 at a pixel from one horizontal and one vertical neighbour (Telea 2004,
 * eq. 6 solved as a quadratic), or 1 + the smaller arrival time when only one has arrived.
 */
function solve(t1: number, t2: number): number {
  if (t1 >= FAR && t2 >= FAR) return FAR;
  if (t1 >= FAR || t2 >= FAR) return 1 + Math.min(t1, t2);
  const d = 2 - (t1 - t2) * (t1 - t2);
  if (d < 0) return 1 + Math.min(t1, t2);
  const r = Math.sqrt(d);
  const s = (t1 + t2 + r) / 2;
  return s >= t1 && s >= t2 ? s : 1 + Math.min(t1, t2);
}

/**
 * Telea's fast marching inpainting: the hole is filled from its border inwards, in order of
 * distance, each pixel as a weighted mean of the known pixels within `radius` (weights favour
 * pixels close by, along the front's normal, and on the same level set), each extrapolated to the
 * pixel along its image gradient, as in the paper. Smooth and fast: right
 * for thin scratches, text and blemishes; it blurs across large holes (see patchmatch.ts).
 *
 * `rgb` is w×h×3, `hole` w×h with 1 where pixels are to be filled; returns a new image.
 */
export function inpaintTelea(rgb: Uint8Array, hole: Uint8Array, w: number, h: number, radius = 5): Uint8Array {
  const n = w * h;
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n * 3; i++) out[i] = rgb[i]!;
  const flag = new Uint8Array(n);
  const t = new Float32Array(n);
  const heap = new MinHeap(1024);
  for (let i = 0; i < n; i++) {
    if (hole[i]) {
      flag[i] = INSIDE;
      t[i] = FAR;
    }
  }
  // The initial front: known pixels touching the hole.
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (flag[i] !== KNOWN) continue;
      if ((x > 0 && hole[i - 1]) || (x < w - 1 && hole[i + 1]) || (y > 0 && hole[i - w]) || (y < h - 1 && hole[i + w])) {
        flag[i] = BAND;
        heap.push(0, i);
      }
    }
  }
  const tAt = (x: number, y: number) => (x < 0 || y < 0 || x >= w || y >= h ? FAR : flag[y * w + x] === INSIDE ? FAR : t[y * w + x]!);
  while (heap.size > 0) {
    const i = heap.pop();
    if (flag[i] === KNOWN) continue;
    flag[i] = KNOWN;
    const x0 = i % w;
    const y0 = (i - x0) / w;
    for (const [dx, dy] of NEIGHBOURS) {
      const x = x0 + dx, y = y0 + dy;
      if (x < 0 || y < 0 || x >= w || y >= h) continue;
      const j = y * w + x;
      if (flag[j] !== INSIDE) continue;
      const tv = Math.min(
        solve(tAt(x - 1, y), tAt(x, y - 1)), solve(tAt(x + 1, y), tAt(x, y - 1)),
        solve(tAt(x - 1, y), tAt(x, y + 1)), solve(tAt(x + 1, y), tAt(x, y + 1)),
      );
      t[j] = tv;
      fillPixel(out, flag, hole, t, w, h, x, y, radius);
      flag[j] = BAND;
      heap.push(tv, j);
    }
  }
  const result = new Uint8Array(n * 3);
  for (let i = 0; i < n * 3; i++) result[i] = Math.max(0, Math.min(255, Math.round(out[i]!)));
  return result;
}

const NEIGHBOURS = [[-1, 0], [1, 0], [0, -1], [0, 1]] as const;

function gradient(t: Float32Array, flag: Uint8Array, w: number, h: number, x: number, y: number): [number, number] {
  const at = (xx: number, yy: number) => (xx >= 0 && yy >= 0 && xx < w && yy < h && flag[yy * w + xx] !== INSIDE ? t[yy * w + xx]! : undefined);
  const c = t[y * w + x]!;
  const l = at(x - 1, y), r = at(x + 1, y), u = at(x, y - 1), d = at(x, y + 1);
  const gx = l !== undefined && r !== undefined ? (r - l) / 2 : r !== undefined ? r - c : l !== undefined ? c - l : 0;
  const gy = u !== undefined && d !== undefined ? (d - u) / 2 : d !== undefined ? d - c : u !== undefined ? c - u : 0;
  return [gx, gy];
}

function fillPixel(out: Float32Array, flag: Uint8Array, hole: Uint8Array, t: Float32Array, w: number, h: number, x: number, y: number, radius: number): void {
  const i = y * w + x;
  const [gx, gy] = gradient(t, flag, w, h, x, y);
  const ti = t[i]!;
  let s0 = 0, s1 = 0, s2 = 0, sw = 0;
  const r2 = radius * radius;
  for (let yy = Math.max(0, y - radius); yy <= Math.min(h - 1, y + radius); yy++) {
    for (let xx = Math.max(0, x - radius); xx <= Math.min(w - 1, x + radius); xx++) {
      const j = yy * w + xx;
      if (flag[j] === INSIDE || j === i) continue;
      const rx = x - xx, ry = y - yy;
      const d2 = rx * rx + ry * ry;
      if (d2 > r2) continue;
      const len = Math.sqrt(d2);
      let dir = Math.abs(rx * gx + ry * gy) / len;
      if (dir < 1e-6) dir = 1e-6;
      const dst = 1 / d2;
      const lev = 1 / (1 + Math.abs(t[j]! - ti));
      const wgt = dir * dst * lev;
      // I(q) + ∇I(q)·(p − q), the gradient by central (or one-sided) differences over pixels known
      // from the start: gradients of filled pixels, extrapolated again and again, overshoot.
      const known = (k: number) => !hole[k];
      const xl = xx > 0 && known(j - 1) ? j - 1 : j, xr = xx < w - 1 && known(j + 1) ? j + 1 : j;
      const yu = yy > 0 && known(j - w) ? j - w : j, yd = yy < h - 1 && known(j + w) ? j + w : j;
      const onKnown = known(j) ? 1 : 0;
      const sx = xr - xl === 0 ? 0 : onKnown / (xr - xl), sy = yd - yu === 0 ? 0 : (onKnown * w) / (yd - yu);
      s0 += wgt * (out[j * 3]! + (out[xr * 3]! - out[xl * 3]!) * sx * rx + (out[yd * 3]! - out[yu * 3]!) * sy * ry);
      s1 += wgt * (out[j * 3 + 1]! + (out[xr * 3 + 1]! - out[xl * 3 + 1]!) * sx * rx + (out[yd * 3 + 1]! - out[yu * 3 + 1]!) * sy * ry);
      s2 += wgt * (out[j * 3 + 2]! + (out[xr * 3 + 2]! - out[xl * 3 + 2]!) * sx * rx + (out[yd * 3 + 2]! - out[yu * 3 + 2]!) * sy * ry);
      sw += wgt;
    }
  }
  if (sw > 0) {
    out[i * 3] = s0 / sw;
    out[i * 3 + 1] = s1 / sw;
    out[i * 3 + 2] = s2 / sw;
  }
}
