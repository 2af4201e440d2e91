import type { RawImage } from '../../image/raw.js';
import type { Mask } from './mask.js';
import { yieldToLoop } from '../event-loop.js';
import { atWorkSize } from './work-size.js';

/**
 * rembg-style alpha matting: a trimap from the mask, then Levin, Lischinski and Weiss's closed-form
 * matting solve for the unknown band (the method rembg runs through pymatting). The matting
 * Laplacian is applied matrix-free, window by window, and the system is solved by conjugate
 * gradients over the unknown pixels only, the known ones held at 0 or 1.
 */

export interface AlphaMattingOptions {
  /** Mask values above this are sure foreground (rembg's af, 240). */
  foregroundThreshold: number;
  /** Below this, sure background (ab, 10). */
  backgroundThreshold: number;
  /** Both sure regions are eroded by a square of this side before the solve (ae, 10). */
  erodeSize: number;
}

export const UNKNOWN = 128;

/**
 * Binary erosion by a size×size square, anchored as scipy's binary_erosion (rembg's) anchors it:
 * offsets −⌊size/2⌋ … size−1−⌊size/2⌋. Pixels beyond the border count as `border`.
 */
function erode(on: Uint8Array, w: number, h: number, size: number, border: boolean): Uint8Array {
  if (size <= 1) return on;
  const lo = Math.floor(size / 2);
  const hi = size - 1 - lo;
  const pass = (src: Uint8Array, horizontal: boolean) => {
    const out = new Uint8Array(src.length);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      let all = 1;
      for (let d = -lo; d <= hi && all; d++) {
        const [xx, yy] = horizontal ? [x + d, y] : [x, y + d];
        all = xx < 0 || yy < 0 || xx >= w || yy >= h ? (border ? 1 : 0) : src[yy * w + xx]!;
      }
      out[y * w + x] = all;
    }
    return out;
  };
  return pass(pass(on, true), false);
}

/** 255 sure foreground, 0 sure background, 128 unknown, as rembg builds it (foreground eroded against a background border). */
export function trimap(mask: Mask, o: AlphaMattingOptions): Uint8Array {
  const { data, width: w, height: h } = mask;
  const fg = erode(data.map((v) => (v > o.foregroundThreshold ? 1 : 0)), w, h, o.erodeSize, false);
  const bg = erode(data.map((v) => (v < o.backgroundThreshold ? 1 : 0)), w, h, o.erodeSize, true);
  return data.map((_, i) => (fg[i] ? 255 : bg[i] ? 0 : UNKNOWN));
}

/** ε of pymatting's cf_laplacian; windows are 3×3. */
const EPS = 1e-7;

interface Windows {
  centres: Int32Array;
  /** Per window: mean colour (3) and the inverse regularised covariance (6, symmetric). */
  mean: Float64Array;
  inv: Float64Array;
}

/** The 3×3 windows that touch an unknown pixel, with their colour statistics (colours 0..1). */
function windows(img: Float64Array, tri: Uint8Array, w: number, h: number): Windows {
  const list: number[] = [];
  for (let y = 1; y < h - 1; y++) for (let x = 1; x < w - 1; x++) {
    let unknown = false;
    for (let dy = -1; dy <= 1 && !unknown; dy++) for (let dx = -1; dx <= 1; dx++) if (tri[(y + dy) * w + x + dx] === UNKNOWN) unknown = true;
    if (unknown) list.push(y * w + x);
  }
  const centres = Int32Array.from(list);
  const mean = new Float64Array(centres.length * 3);
  const inv = new Float64Array(centres.length * 6);
  centres.forEach((c, k) => {
    let [sr, sg, sb, srr, srg, srb, sgg, sgb, sbb] = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const p = (c + dy * w + dx) * 3;
      const [r, g, b] = [img[p]!, img[p + 1]!, img[p + 2]!];
      sr += r; sg += g; sb += b;
      srr += r * r; srg += r * g; srb += r * b; sgg += g * g; sgb += g * b; sbb += b * b;
    }
    const [mr, mg, mb] = [sr / 9, sg / 9, sb / 9];
    const e = EPS / 9;
    const rr = srr / 9 - mr * mr + e, rg = srg / 9 - mr * mg, rb = srb / 9 - mr * mb;
    const gg = sgg / 9 - mg * mg + e, gb = sgb / 9 - mg * mb, bb = sbb / 9 - mb * mb + e;
    const c00 = gg * bb - gb * gb, c01 = rb * gb - rg * bb, c02 = rg * gb - rb * gg;
    const c11 = rr * bb - rb * rb, c12 = rb * rg - rr * gb, c22 = rr * gg - rg * rg;
    const det = rr * c00 + rg * c01 + rb * c02;
    mean.set([mr, mg, mb], k * 3);
    inv.set([c00 / det, c01 / det, c02 / det, c11 / det, c12 / det, c22 / det], k * 6);
  });
  return { centres, mean, inv };
}

const OFFSET_X = Int32Array.from([-1, 0, 1, -1, 0, 1, -1, 0, 1]);
const OFFSET_Y = Int32Array.from([-1, -1, -1, 0, 0, 0, 1, 1, 1]);

/** out = L·x (the matting Laplacian over the listed windows), accumulated window by window. */
function laplacian(win: Windows, img: Float64Array, w: number, x: Float64Array, out: Float64Array): void {
  out.fill(0);
  const d = new Float64Array(27);
  for (let k = 0; k < win.centres.length; k++) {
    const c = win.centres[k]!;
    const mr = win.mean[k * 3]!;
    const mg = win.mean[k * 3 + 1]!;
    const mb = win.mean[k * 3 + 2]!;
    const q = k * 6;
    let mean = 0;
    let v0 = 0;
    let v1 = 0;
    let v2 = 0;
    for (let j = 0; j < 9; j++) {
      const i = c + OFFSET_Y[j]! * w + OFFSET_X[j]!;
      const p = i * 3;
      const r = img[p]! - mr;
      const g = img[p + 1]! - mg;
      const b = img[p + 2]! - mb;
      d[j * 3] = r;
      d[j * 3 + 1] = g;
      d[j * 3 + 2] = b;
      const xi = x[i]!;
      mean += xi;
      v0 += r * xi;
      v1 += g * xi;
      v2 += b * xi;
    }
    mean /= 9;
    v0 /= 9;
    v1 /= 9;
    v2 /= 9;
    const inv = win.inv;
    const u0 = inv[q]! * v0 + inv[q + 1]! * v1 + inv[q + 2]! * v2;
    const u1 = inv[q + 1]! * v0 + inv[q + 3]! * v1 + inv[q + 4]! * v2;
    const u2 = inv[q + 2]! * v0 + inv[q + 4]! * v1 + inv[q + 5]! * v2;
    for (let j = 0; j < 9; j++) {
      const i = c + OFFSET_Y[j]! * w + OFFSET_X[j]!;
      out[i]! += x[i]! - mean - (d[j * 3]! * u0 + d[j * 3 + 1]! * u1 + d[j * 3 + 2]! * u2);
    }
  }
}

/** L's diagonal, for the Jacobi preconditioner: per window, 1 − (1 + dᵢᵀ A dᵢ) / 9. */
function laplacianDiagonal(win: Windows, img: Float64Array, w: number, n: number): Float64Array {
  const diag = new Float64Array(n);
  for (let k = 0; k < win.centres.length; k++) {
    const c = win.centres[k]!;
    const q = k * 6;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const i = c + dy * w + dx;
      const [r, g, b] = [img[i * 3]! - win.mean[k * 3]!, img[i * 3 + 1]! - win.mean[k * 3 + 1]!, img[i * 3 + 2]! - win.mean[k * 3 + 2]!];
      const quad = win.inv[q]! * r * r + win.inv[q + 3]! * g * g + win.inv[q + 5]! * b * b + 2 * (win.inv[q + 1]! * r * g + win.inv[q + 2]! * r * b + win.inv[q + 4]! * g * b);
      diag[i]! += 1 - (1 + quad) / 9;
    }
  }
  return diag;
}

/**
 * Alpha for the unknown pixels: minimise αᵀLα with the known pixels fixed, i.e. solve
 * L_uu α_u = −L_uk α_k by conjugate gradients (Jacobi-preconditioned), yielding to the event loop
 * between iterations. Known pixels keep 0 or 1.
 */
export async function solveAlpha(photo: RawImage, tri: Uint8Array, opts: { maxIterations?: number; tolerance?: number } = {}): Promise<Float64Array> {
  const { width: w, height: h } = photo;
  const n = w * h;
  const img = new Float64Array(n * 3);
  for (let i = 0, p = 0; i < n; i++, p += photo.channels) for (let c = 0; c < 3; c++) img[i * 3 + c] = photo.data[p + c]! / 255;
  const alpha = Float64Array.from(tri, (t) => (t === 255 ? 1 : t === UNKNOWN ? 0.5 : 0));
  const unknown = Int32Array.from(Array.from(tri.keys()).filter((i) => tri[i] === UNKNOWN));
  if (unknown.length === 0) return alpha;
  const win = windows(img, tri, w, h);
  const known = alpha.map((a, i) => (tri[i] === UNKNOWN ? 0 : a));
  const tmp = new Float64Array(n);
  // b = −L_uk α_k
  laplacian(win, img, w, known, tmp);
  const diag = laplacianDiagonal(win, img, w, n);
  const x = new Float64Array(n);
  for (const i of unknown) x[i] = alpha[i]!;
  const r = new Float64Array(n);
  const z = new Float64Array(n);
  const p = new Float64Array(n);
  const Ap = new Float64Array(n);
  laplacian(win, img, w, x, Ap);
  for (const i of unknown) {
    r[i] = -tmp[i]! - Ap[i]!;
    z[i] = r[i]! / (diag[i]! || 1);
    p[i] = z[i]!;
  }
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let u = 0; u < unknown.length; u++) s += a[unknown[u]!]! * b[unknown[u]!]!;
    return s;
  };
  let rz = dot(r, z);
  const r0 = Math.sqrt(dot(r, r));
  const maxIterations = opts.maxIterations ?? 500;
  const tolerance = opts.tolerance ?? 1e-4;
  for (let it = 0; it < maxIterations && Math.sqrt(dot(r, r)) > tolerance * r0; it++) {
    await yieldToLoop();
    laplacian(win, img, w, p, Ap);
    const step = rz / dot(p, Ap);
    for (let u = 0; u < unknown.length; u++) {
      const i = unknown[u]!;
      x[i]! += step * p[i]!;
      r[i]! -= step * Ap[i]!;
      z[i] = r[i]! / (diag[i]! || 1);
    }
    const next = dot(r, z);
    const beta = next / rz;
    rz = next;
    for (let u = 0; u < unknown.length; u++) {
      const i = unknown[u]!;
      p[i] = z[i]! + beta * p[i]!;
    }
  }
  for (const i of unknown) alpha[i] = Math.min(1, Math.max(0, x[i]!));
  return alpha;
}

/** The mask replaced by a matting solve in its uncertain band (both at the photo's size; larger photos at MAX_WORK_SIDE). */
export function alphaMatte(photo: RawImage, mask: Mask, o: AlphaMattingOptions): Promise<Mask> {
  return atWorkSize(photo, mask, async (p, m, scale) => {
    const alpha = await solveAlpha(p, trimap(m, { ...o, erodeSize: Math.max(1, Math.round(o.erodeSize * scale)) }));
    return { data: Uint8Array.from(alpha, (a) => Math.round(a * 255)), width: m.width, height: m.height };
  });
}
