import { inpaintTelea } from './telea.js';

export interface PatchMatchOptions {
  /** Patch side in pixels (odd). 7 follows Wexler et al.; larger keeps bigger structures, slower. */
  patchSize: number;
  /** Seeds the random search, so a request's answer is reproducible. */
  seed: number;
  /** After each pyramid level: levels done and levels in all. */
  onLevel?: (done: number, total: number) => void;
}

interface Level {
  w: number;
  h: number;
  /** RGB, 3 floats a pixel; hole pixels hold the current estimate. */
  img: Float32Array;
  hole: Uint8Array;
}

/**
 * Exemplar-based inpainting: Wexler, Shechtman and Irani's completion (2007), each hole pixel the
 * vote of the known patches that best match the patches around it, with the nearest-neighbour
 * field found by PatchMatch (Barnes et al. 2009: propagation from neighbours plus a shrinking
 * random search), coarse to fine over an image pyramid so large structures settle first. Unlike a
 * diffusion fill (telea.ts) it copies texture — stripes, grass, brick, fabric — into the hole,
 * which is what removing an object from a textured background needs.
 *
 * `rgb` is w×h×3, `hole` w×h with 1 where pixels are to be filled; returns a new image in which
 * only hole pixels differ from `rgb`.
 */
export function inpaintPatchMatch(rgb: Uint8Array, hole: Uint8Array, w: number, h: number, opts: PatchMatchOptions): Uint8Array {
  const r = (opts.patchSize - 1) >> 1;
  const levels = pyramid(rgb, hole, w, h, r);
  if (levels.length === 0) return inpaintTelea(rgb, hole, w, h);
  const rand = xorshift(opts.seed);
  let nnf: Int32Array | undefined;
  let prev: Level | undefined;
  for (let li = levels.length - 1; li >= 0; li--) {
    const level = levels[li]!;
    const field = new Field(level, r);
    if (!prev || !nnf) {
      onionFill(level);
      field.randomInit(rand);
    } else {
      // The coarse colours give the patch means; a vote of the doubled field then gives the detail.
      seedFromCoarse(level, prev);
      field.upsampleFrom(nnf, prev.w, rand);
      field.distances();
      field.vote();
    }
    const steps = Math.max(2, 5 - (levels.length - 1 - li));
    for (let em = 0; em < steps; em++) {
      field.distances();
      for (let it = 0; it < 4; it++) field.search(it % 2 === 0, rand);
      field.vote();
    }
    nnf = field.nnf;
    prev = level;
    opts.onLevel?.(levels.length - li, levels.length);
  }
  const finest = levels[0]!;
  const out = new Uint8Array(rgb);
  for (let i = 0; i < w * h; i++) {
    if (!hole[i]) continue;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.max(0, Math.min(255, Math.round(finest.img[i * 3 + c]!)));
  }
  return out;
}

/**
 * Level 0 is the image; each next halves it (a coarse pixel is a hole if any of its four is) until
 * the hole is no wider than a patch or the image is four patches across. Coarse levels that have
 * no complete known patch left are dropped; none at all (the hole leaves no patch anywhere) is [].
 */
function pyramid(rgb: Uint8Array, hole: Uint8Array, w: number, h: number, r: number): Level[] {
  const side = 2 * r + 1;
  const levels: Level[] = [{ w, h, img: Float32Array.from(rgb), hole }];
  for (;;) {
    const cur = levels[levels.length - 1]!;
    if (Math.min(cur.w, cur.h) < 8 * side || holeExtent(cur) <= side) break;
    levels.push(downsample(cur));
  }
  while (levels.length > 0 && !hasSource(levels[levels.length - 1]!, r)) levels.pop();
  return levels;
}

function holeExtent(l: Level): number {
  let x0 = l.w, y0 = l.h, x1 = -1, y1 = -1;
  for (let y = 0; y < l.h; y++) {
    for (let x = 0; x < l.w; x++) {
      if (!l.hole[y * l.w + x]) continue;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
  }
  return x1 < 0 ? 0 : Math.max(x1 - x0, y1 - y0) + 1;
}

function downsample(l: Level): Level {
  const w = (l.w + 1) >> 1, h = (l.h + 1) >> 1;
  const img = new Float32Array(w * h * 3);
  const hole = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let n = 0, s0 = 0, s1 = 0, s2 = 0, any = 0;
      for (let dy = 0; dy < 2; dy++) {
        for (let dx = 0; dx < 2; dx++) {
          const xx = 2 * x + dx, yy = 2 * y + dy;
          if (xx >= l.w || yy >= l.h) continue;
          const i = yy * l.w + xx;
          if (l.hole[i]) { any = 1; continue; }
          s0 += l.img[i * 3]!; s1 += l.img[i * 3 + 1]!; s2 += l.img[i * 3 + 2]!; n++;
        }
      }
      const o = y * w + x;
      hole[o] = any;
      if (n > 0) { img[o * 3] = s0 / n; img[o * 3 + 1] = s1 / n; img[o * 3 + 2] = s2 / n; }
    }
  }
  return { w, h, img, hole };
}

/** The finer level's hole starts as the coarser level's estimate, each pixel its parent's colour. */
function seedFromCoarse(fine: Level, coarse: Level): void {
  for (let y = 0; y < fine.h; y++) {
    for (let x = 0; x < fine.w; x++) {
      const i = y * fine.w + x;
      if (!fine.hole[i]) continue;
      const j = (y >> 1) * coarse.w + (x >> 1);
      for (let c = 0; c < 3; c++) fine.img[i * 3 + c] = coarse.img[j * 3 + c]!;
    }
  }
}

/** Hole pixels per window via a summed-area table: windows are clipped to the image. */
function holeCounter(l: Level): (x0: number, y0: number, x1: number, y1: number) => number {
  const W = l.w + 1;
  const sat = new Int32Array(W * (l.h + 1));
  for (let y = 0; y < l.h; y++) {
    let row = 0;
    for (let x = 0; x < l.w; x++) {
      row += l.hole[y * l.w + x]!;
      sat[(y + 1) * W + x + 1] = sat[y * W + x + 1]! + row;
    }
  }
  return (x0, y0, x1, y1) => {
    const a = Math.max(0, x0), b = Math.max(0, y0), c = Math.min(l.w - 1, x1) + 1, d = Math.min(l.h - 1, y1) + 1;
    return sat[d * W + c]! - sat[b * W + c]! - sat[d * W + a]! + sat[b * W + a]!;
  };
}

function hasSource(l: Level, r: number): boolean {
  const count = holeCounter(l);
  for (let y = r; y < l.h - r; y++) for (let x = r; x < l.w - r; x++) if (count(x - r, y - r, x + r, y + r) === 0) return true;
  return false;
}

/** The coarsest estimate: the hole filled ring by ring with the mean of already-known neighbours. */
function onionFill(l: Level): void {
  const { w, h, img } = l;
  const done = Uint8Array.from(l.hole, (v) => 1 - v);
  let todo = l.hole.reduce((s, v) => s + v, 0);
  while (todo > 0) {
    const ring: number[] = [];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        if (done[i]) continue;
        let n = 0, s0 = 0, s1 = 0, s2 = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx, yy = y + dy;
            if (xx < 0 || yy < 0 || xx >= w || yy >= h || !done[yy * w + xx]) continue;
            const j = yy * w + xx;
            s0 += img[j * 3]!; s1 += img[j * 3 + 1]!; s2 += img[j * 3 + 2]!; n++;
          }
        }
        if (n > 0) { img[i * 3] = s0 / n; img[i * 3 + 1] = s1 / n; img[i * 3 + 2] = s2 / n; ring.push(i); }
      }
    }
    for (const i of ring) done[i] = 1;
    todo -= ring.length;
  }
}

/** The nearest-neighbour field of one level: for each target pixel, the centre of its best known patch. */
class Field {
  /** Per pixel: the source patch centre's index, or −1 where the pixel is not a target. */
  readonly nnf: Int32Array;
  private readonly dist: Float32Array;
  /** Pixels whose patch touches the hole, in scan order. */
  private readonly targets: Int32Array;
  /** 1 where a patch centred there lies inside the image and holds no hole pixel. */
  private readonly valid: Uint8Array;
  private readonly sources: Int32Array;
  /** Per pixel, 3 channels: the mean of the patch centred there (window clipped to the image). */
  private readonly sourceMean: Float32Array;
  private targetMean: Float32Array;

  constructor(private readonly l: Level, private readonly r: number) {
    const { w, h } = l;
    const count = holeCounter(l);
    this.valid = new Uint8Array(w * h);
    const targets: number[] = [];
    const sources: number[] = [];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const holes = count(x - r, y - r, x + r, y + r);
        if (holes > 0) targets.push(y * w + x);
        else if (x >= r && y >= r && x < w - r && y < h - r) {
          this.valid[y * w + x] = 1;
          sources.push(y * w + x);
        }
      }
    }
    this.targets = Int32Array.from(targets);
    this.sources = Int32Array.from(sources);
    this.nnf = new Int32Array(w * h).fill(-1);
    this.dist = new Float32Array(w * h);
    this.sourceMean = patchMeans(l, r);
    this.targetMean = this.sourceMean;
  }

  randomInit(rand: () => number): void {
    for (const p of this.targets) this.nnf[p] = this.sources[Math.floor(rand() * this.sources.length)]!;
  }

  /** The coarse field doubled: each fine pixel starts from its coarse parent's match, shifted alike. */
  upsampleFrom(coarse: Int32Array, coarseW: number, rand: () => number): void {
    const { w, h } = this.l;
    for (const p of this.targets) {
      const x = p % w, y = (p - x) / w;
      const s = coarse[(y >> 1) * coarseW + (x >> 1)] ?? -1;
      let q = -1;
      if (s >= 0) {
        const sx = Math.min(w - 1 - this.r, Math.max(this.r, 2 * (s % coarseW) + (x & 1)));
        const sy = Math.min(h - 1 - this.r, Math.max(this.r, 2 * Math.floor(s / coarseW) + (y & 1)));
        q = sy * w + sx;
      }
      this.nnf[p] = q >= 0 && this.valid[q] ? q : this.sources[Math.floor(rand() * this.sources.length)]!;
    }
  }

  /** How much brighter, in channel c, the patch at p is than the source patch at q. */
  private bias(p: number, q: number, c: number): number {
    return this.targetMean[p * 3 + c]! - this.sourceMean[q * 3 + c]!;
  }

  /**
   * Squared difference between the patches at p and q once the source is shifted by the bias
   * (the difference of their means), plus a penalty on that bias; gives up once over `limit`.
   */
  private distance(p: number, q: number, limit: number): number {
    const { w, h, img } = this.l;
    const r = this.r;
    const px = p % w, py = (p - px) / w;
    const off = q - p;
    const b0 = this.bias(p, q, 0), b1 = this.bias(p, q, 1), b2 = this.bias(p, q, 2);
    let sum = BIAS_PENALTY * (2 * r + 1) ** 2 * (b0 * b0 + b1 * b1 + b2 * b2);
    if (sum > limit) return sum;
    for (let dy = -r; dy <= r; dy++) {
      const y = py + dy;
      if (y < 0 || y >= h) continue;
      for (let dx = -r; dx <= r; dx++) {
        const x = px + dx;
        if (x < 0 || x >= w) continue;
        const a = (y * w + x) * 3;
        const b = a + off * 3;
        const d0 = img[a]! - img[b]! - b0, d1 = img[a + 1]! - img[b + 1]! - b1, d2 = img[a + 2]! - img[b + 2]! - b2;
        sum += d0 * d0 + d1 * d1 + d2 * d2;
      }
      if (sum > limit) return sum;
    }
    return sum;
  }

  /** Recomputes the targets' patch means from the current estimate, then every match's distance. */
  distances(): void {
    this.targetMean = patchMeans(this.l, this.r);
    for (const p of this.targets) this.dist[p] = this.distance(p, this.nnf[p]!, Infinity);
  }

  private tryMatch(p: number, q: number): void {
    if (q < 0 || !this.valid[q] || q === this.nnf[p]) return;
    const d = this.distance(p, q, this.dist[p]!);
    if (d < this.dist[p]!) {
      this.dist[p] = d;
      this.nnf[p] = q;
    }
  }

  /** One PatchMatch sweep: propagation from the two scanned neighbours, then random search. */
  search(forward: boolean, rand: () => number): void {
    const { w, h } = this.l;
    const step = forward ? 1 : -1;
    const n = this.targets.length;
    const maxR = Math.max(w, h);
    for (let k = 0; k < n; k++) {
      const p = this.targets[forward ? k : n - 1 - k]!;
      const x = p % w, y = (p - x) / w;
      const left = x - step, up = y - step;
      if (left >= 0 && left < w) {
        const s = this.nnf[p - step]!;
        if (s >= 0 && (s % w) + step >= 0 && (s % w) + step < w) this.tryMatch(p, s + step);
      }
      if (up >= 0 && up < h) {
        const s = this.nnf[p - step * w]!;
        if (s >= 0) this.tryMatch(p, s + step * w);
      }
      const best = this.nnf[p]!;
      const bx = best % w, by = (best - bx) / w;
      for (let radius = maxR; radius >= 1; radius >>= 1) {
        const cx = Math.min(w - 1, Math.max(0, bx + Math.round((rand() * 2 - 1) * radius)));
        const cy = Math.min(h - 1, Math.max(0, by + Math.round((rand() * 2 - 1) * radius)));
        this.tryMatch(p, cy * w + cx);
      }
    }
  }

  /**
   * Each hole pixel becomes the weighted mean of what the patches over it say it is; a patch's
   * weight falls with its match distance (σ² the 75th percentile of the distances), so the few
   * bad matches near a structure's end do not smear it.
   */
  vote(): void {
    const { w, h, img, hole } = this.l;
    const r = this.r;
    const sigma2 = Math.max(1, percentile(this.targets, this.dist, 0.75));
    const acc = new Float32Array(w * h * 4);
    for (const p of this.targets) {
      const q = this.nnf[p]!;
      const wt = Math.exp(-this.dist[p]! / (2 * sigma2));
      const px = p % w, py = (p - px) / w;
      const off = q - p;
      const b0 = this.bias(p, q, 0), b1 = this.bias(p, q, 1), b2 = this.bias(p, q, 2);
      for (let dy = -r; dy <= r; dy++) {
        const y = py + dy;
        if (y < 0 || y >= h) continue;
        for (let dx = -r; dx <= r; dx++) {
          const x = px + dx;
          if (x < 0 || x >= w) continue;
          const i = y * w + x;
          if (!hole[i]) continue;
          const s = (i + off) * 3;
          acc[i * 4] = acc[i * 4]! + wt * (img[s]! + b0);
          acc[i * 4 + 1] = acc[i * 4 + 1]! + wt * (img[s + 1]! + b1);
          acc[i * 4 + 2] = acc[i * 4 + 2]! + wt * (img[s + 2]! + b2);
          acc[i * 4 + 3] = acc[i * 4 + 3]! + wt;
        }
      }
    }
    for (let i = 0; i < w * h; i++) {
      const wt = acc[i * 4 + 3]!;
      if (!hole[i] || wt === 0) continue;
      img[i * 3] = acc[i * 4]! / wt;
      img[i * 3 + 1] = acc[i * 4 + 1]! / wt;
      img[i * 3 + 2] = acc[i * 4 + 2]! / wt;
    }
  }
}

/**
 * Patches are compared after removing their mean difference (the bias part of Darabi et al.'s
 * gain and bias, "Image Melding", 2012), so a smooth gradient or uneven lighting across the hole
 * is carried through instead of being patched from one brightness; the penalty keeps matches
 * with the smallest shift preferred, so stripes and texture keep their own colours.
 */
const BIAS_PENALTY = 0.5;

/** Mean of each (2r+1)² window, clipped to the image, per channel (summed-area tables). */
function patchMeans(l: Level, r: number): Float32Array {
  const { w, h, img } = l;
  const W = w + 1;
  const sat = new Float64Array(W * (h + 1) * 3);
  for (let y = 0; y < h; y++) {
    const row = [0, 0, 0];
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        row[c]! += img[(y * w + x) * 3 + c]!;
        sat[((y + 1) * W + x + 1) * 3 + c] = sat[(y * W + x + 1) * 3 + c]! + row[c]!;
      }
    }
  }
  const out = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const y0 = Math.max(0, y - r), y1 = Math.min(h - 1, y + r) + 1;
    for (let x = 0; x < w; x++) {
      const x0 = Math.max(0, x - r), x1 = Math.min(w - 1, x + r) + 1;
      const n = (x1 - x0) * (y1 - y0);
      for (let c = 0; c < 3; c++) {
        const v = sat[(y1 * W + x1) * 3 + c]! - sat[(y0 * W + x1) * 3 + c]! - sat[(y1 * W + x0) * 3 + c]! + sat[(y0 * W + x0) * 3 + c]!;
        out[(y * w + x) * 3 + c] = v / n;
      }
    }
  }
  return out;
}

function percentile(items: Int32Array, values: Float32Array, q: number): number {
  if (items.length === 0) return 0;
  const v = Float32Array.from(items, (i) => values[i]!).sort();
  return v[Math.min(v.length - 1, Math.floor(q * v.length))]!;
}

/** xorshift32 in 0..1: fast, and the same numbers for the same seed on every platform. */
function xorshift(seed: number): () => number {
  let s = (seed | 0) || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}
