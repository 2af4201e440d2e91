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
  const fill: Fill = { out, flag, t, w, h, grad: knownGradients(out, hole, w, h), win: offsetsWithin(radius) };
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
      fillPixel(fill, x, y);
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

/** The window's offsets within `radius`, with what the weights need of each: 1/|r|² and 1/|r|. */
function offsetsWithin(radius: number) {
  const dx: number[] = [], dy: number[] = [], invD2: number[] = [], invLen: number[] = [];
  for (let y = -radius; y <= radius; y++) {
    for (let x = -radius; x <= radius; x++) {
      const d2 = x * x + y * y;
      if (d2 === 0 || d2 > radius * radius) continue;
      dx.push(x); dy.push(y); invD2.push(1 / d2); invLen.push(1 / Math.sqrt(d2));
    }
  }
  return { dx: Int32Array.from(dx), dy: Int32Array.from(dy), invD2: Float32Array.from(invD2), invLen: Float32Array.from(invLen) };
}

/**
 * Per pixel known from the start, per channel: the image gradient by central (or one-sided)
 * differences over known pixels; 0 elsewhere. Gradients of filled pixels are left out: extrapolated
 * again and again across a hole, they overshoot.
 */
function knownGradients(img: Float32Array, hole: Uint8Array, w: number, h: number): { gx: Float32Array; gy: Float32Array } {
  const gx = new Float32Array(w * h * 3), gy = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const j = y * w + x;
      if (hole[j]) continue;
      const xl = x > 0 && !hole[j - 1] ? j - 1 : j, xr = x < w - 1 && !hole[j + 1] ? j + 1 : j;
      const yu = y > 0 && !hole[j - w] ? j - w : j, yd = y < h - 1 && !hole[j + w] ? j + w : j;
      const sx = xr === xl ? 0 : 1 / (xr - xl), sy = yd === yu ? 0 : w / (yd - yu);
      for (let c = 0; c < 3; c++) {
        gx[j * 3 + c] = (img[xr * 3 + c]! - img[xl * 3 + c]!) * sx;
        gy[j * 3 + c] = (img[yd * 3 + c]! - img[yu * 3 + c]!) * sy;
      }
    }
  }
  return { gx, gy };
}

interface Fill {
  out: Float32Array;
  flag: Uint8Array;
  t: Float32Array;
  w: number;
  h: number;
  grad: { gx: Float32Array; gy: Float32Array };
  win: ReturnType<typeof offsetsWithin>;
}

/** One pixel: I(q) + ∇I(q)·(p − q) over the known q in the window, weighted by direction, distance and level. */
function fillPixel(f: Fill, x: number, y: number): void {
  const { out, flag, t, w, h, grad, win } = f;
  const i = y * w + x;
  const [tgx, tgy] = gradient(t, flag, w, h, x, y);
  const ti = t[i]!;
  let s0 = 0, s1 = 0, s2 = 0, sw = 0;
  for (let k = 0; k < win.dx.length; k++) {
    const xx = x + win.dx[k]!, yy = y + win.dy[k]!;
    if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
    const j = yy * w + xx;
    if (flag[j] === INSIDE) continue;
    const rx = -win.dx[k]!, ry = -win.dy[k]!;
    let dir = Math.abs(rx * tgx + ry * tgy) * win.invLen[k]!;
    if (dir < 1e-6) dir = 1e-6;
    const wgt = (dir * win.invD2[k]!) / (1 + Math.abs(t[j]! - ti));
    const q = j * 3;
    s0 += wgt * (out[q]! + grad.gx[q]! * rx + grad.gy[q]! * ry);
    s1 += wgt * (out[q + 1]! + grad.gx[q + 1]! * rx + grad.gy[q + 1]! * ry);
    s2 += wgt * (out[q + 2]! + grad.gx[q + 2]! * rx + grad.gy[q + 2]! * ry);
    sw += wgt;
  }
  if (sw > 0) {
    out[i * 3] = s0 / sw;
    out[i * 3 + 1] = s1 / sw;
    out[i * 3 + 2] = s2 / sw;
  }
}
