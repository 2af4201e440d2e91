import type { RawImage } from './raw.js';

/**
 * Tiled inference for image-to-image models whose output is `scale` times their input
 * (upscalers). Adjacent tiles overlap by 2 × tilePad input pixels. Inside each overlap a band of
 * tilePad pixels, centred, is feathered linearly from one tile to the next; outside it each pixel
 * comes from one tile, at least tilePad/2 pixels away from that tile's edge, where the model saw
 * too little context. The two ramps of a band sum to exactly 1, so no weight buffer is kept and
 * the output is written as final 8-bit pixels one tile row at a time: besides the 8-bit output,
 * memory holds one float band of a tile row's height.
 */

/** A tile's extent along one axis, and the weights its output pixels get there. */
export interface AxisTile {
  /** Input pixels the model sees: [start, end). */
  start: number;
  end: number;
  /** Output pixels this tile contributes to: [from, to), with weights[p − from]. */
  from: number;
  to: number;
  weights: Float32Array;
}

export interface TileGrid {
  xs: AxisTile[];
  ys: AxisTile[];
}

/** Runs the model on one tile: CHW float RGB 0..1 of width × height → CHW of (scale·width) × (scale·height). */
export type TileModel = (input: Float32Array, width: number, height: number) => Promise<Float32Array>;

export interface TiledUpscaleOptions {
  scale: number;
  /** Tile side in input pixels, overlap included. */
  tileSize: number;
  /** Context on each side of a tile seam, in input pixels; tileSize must be ≥ 4 × tilePad + 2. */
  tilePad: number;
  /** Checked between tiles. */
  signal?: AbortSignal;
  onTile?: (done: number, total: number) => void;
}

export function checkTileOptions(tileSize: number, tilePad: number): string | undefined {
  if (!Number.isInteger(tileSize) || tileSize < 16) return `tileSize must be a whole number ≥ 16, got ${tileSize}`;
  if (!Number.isInteger(tilePad) || tilePad < 0) return `tilePad must be a whole number ≥ 0, got ${tilePad}`;
  if (tileSize < 4 * tilePad + 2) return `tileSize (${tileSize}) must be at least 4 × tilePad + 2 (${4 * tilePad + 2})`;
  return undefined;
}

/** The side of a square tile holding at most `maxTilePixels`, a multiple of 8 within [min, max]. */
export function tileSizeForBudget(maxTilePixels: number, min = 64, max = 1024): number {
  const side = Math.floor(Math.sqrt(Math.max(0, maxTilePixels)) / 8) * 8;
  return Math.min(max, Math.max(min, side));
}

interface Band {
  b0: number;
  b1: number;
}

/** The feather band of the seam between tiles [s0, e0) and [s1, e1), in output pixels. */
function seamBand(s1: number, e0: number, pad: number, scale: number): Band {
  const width = pad * scale;
  const b0 = Math.round(((s1 + e0) * scale - width) / 2);
  return { b0, b1: b0 + width };
}

function rampWeights(from: number, to: number, left: Band | undefined, right: Band | undefined): Float32Array {
  const weights = new Float32Array(to - from).fill(1);
  if (left && left.b1 > left.b0) {
    for (let p = left.b0; p < left.b1; p++) weights[p - from] = (p - left.b0 + 0.5) / (left.b1 - left.b0);
  }
  if (right && right.b1 > right.b0) {
    for (let p = right.b0; p < right.b1; p++) weights[p - from] = 1 - (p - right.b0 + 0.5) / (right.b1 - right.b0);
  }
  return weights;
}

/**
 * Tiles along one axis: n equal tiles no longer than tileSize, shrunk so that together they cover
 * the length with overlaps of 2 × pad (±1 from rounding). Shrinking rather than spreading
 * fixed-size tiles keeps the extra work at (n − 1) × 2 × pad pixels whatever the length.
 */
export function axisTiles(length: number, tileSize: number, pad: number, scale: number): AxisTile[] {
  if (length <= tileSize) {
    return [{ start: 0, end: length, from: 0, to: length * scale, weights: new Float32Array(length * scale).fill(1) }];
  }
  const n = Math.ceil((length - 2 * pad) / (tileSize - 2 * pad));
  const size = Math.ceil((length + 2 * pad * (n - 1)) / n);
  const starts = Array.from({ length: n }, (_, i) => Math.round((i * (length - size)) / (n - 1)));
  const bands = starts.slice(1).map((s1, i) => seamBand(s1, (starts[i] as number) + size, pad, scale));
  return starts.map((start, i) => {
    const left = bands[i - 1];
    const right = bands[i];
    const from = left ? left.b0 : 0;
    const to = right ? right.b1 : length * scale;
    if (left && right && left.b1 > right.b0) throw new Error(`tile seams overlap: tileSize ${tileSize} too small for tilePad ${pad}`);
    return { start, end: start + size, from, to, weights: rampWeights(from, to, left, right) };
  });
}

export function tileGrid(width: number, height: number, opts: Pick<TiledUpscaleOptions, 'scale' | 'tileSize' | 'tilePad'>): TileGrid {
  return {
    xs: axisTiles(width, opts.tileSize, opts.tilePad, opts.scale),
    ys: axisTiles(height, opts.tileSize, opts.tilePad, opts.scale),
  };
}

/** Copies an RGB region of interleaved 8-bit pixels into a planar float tile, 0..1. */
export function extractTile(src: RawImage, x0: number, y0: number, tw: number, th: number): Float32Array {
  const { data, width, channels } = src;
  const plane = tw * th;
  const out = new Float32Array(3 * plane);
  const inv = 1 / 255;
  for (let y = 0; y < th; y++) {
    let s = ((y0 + y) * width + x0) * channels;
    let d = y * tw;
    for (let x = 0; x < tw; x++, s += channels, d++) {
      out[d] = (data[s] as number) * inv;
      out[d + plane] = (data[s + 1] as number) * inv;
      out[d + 2 * plane] = (data[s + 2] as number) * inv;
    }
  }
  return out;
}

/** Adds a tile's weighted output into the band, whose first row is output row `bandTop`. */
function accumulate(band: Float32Array, bandTop: number, outW: number, tile: Float32Array, tx: AxisTile, ty: AxisTile, scale: number): void {
  const tileW = (tx.end - tx.start) * scale;
  const plane = tileW * (ty.end - ty.start) * scale;
  const x0 = tx.start * scale;
  const y0 = ty.start * scale;
  const wx = tx.weights;
  for (let y = ty.from; y < ty.to; y++) {
    const wy = ty.weights[y - ty.from] as number;
    let s = (y - y0) * tileW + (tx.from - x0);
    let d = ((y - bandTop) * outW + tx.from) * 3;
    for (let i = 0; i < tx.to - tx.from; i++, s++, d += 3) {
      const w = wy * (wx[i] as number);
      band[d] = (band[d] as number) + w * (tile[s] as number);
      band[d + 1] = (band[d + 1] as number) + w * (tile[s + plane] as number);
      band[d + 2] = (band[d + 2] as number) + w * (tile[s + 2 * plane] as number);
    }
  }
}

/** Writes band rows [bandTop, bandTop + rows) to the 8-bit output; the clamped view rounds and clamps. */
function flush(band: Float32Array, bandTop: number, rows: number, outW: number, out: Uint8ClampedArray): void {
  const n = rows * outW * 3;
  const offset = bandTop * outW * 3;
  for (let i = 0; i < n; i++) out[offset + i] = (band[i] as number) * 255;
}

/**
 * Upscales the RGB channels of `src` tile by tile through `model`; returns 8-bit RGB.
 * Alpha, if any, is ignored here: callers resample it separately.
 */
export async function upscaleTiled(src: RawImage, model: TileModel, opts: TiledUpscaleOptions): Promise<RawImage & { tiles: number }> {
  const problem = checkTileOptions(opts.tileSize, opts.tilePad);
  if (problem) throw new RangeError(problem);
  const { scale } = opts;
  const { xs, ys } = tileGrid(src.width, src.height, opts);
  const outW = src.width * scale;
  const outH = src.height * scale;
  const output = Buffer.allocUnsafe(outW * outH * 3);
  const clamped = new Uint8ClampedArray(output.buffer, output.byteOffset, output.byteLength);
  const rowLen = outW * 3;
  const band = new Float32Array(Math.max(...ys.map((t) => t.to - t.from)) * rowLen);
  const total = xs.length * ys.length;
  let bandTop = 0;
  let bandEnd = 0;
  let done = 0;
  for (const ty of ys) {
    // Rows above this tile row's first contribution are final: write them, keep the rest.
    flush(band, bandTop, ty.from - bandTop, outW, clamped);
    band.copyWithin(0, (ty.from - bandTop) * rowLen, (bandEnd - bandTop) * rowLen);
    band.fill(0, Math.max(0, bandEnd - ty.from) * rowLen);
    bandTop = ty.from;
    bandEnd = ty.to;
    for (const tx of xs) {
      opts.signal?.throwIfAborted();
      const tw = tx.end - tx.start;
      const th = ty.end - ty.start;
      const result = await model(extractTile(src, tx.start, ty.start, tw, th), tw, th);
      if (result.length !== 3 * tw * th * scale * scale) {
        throw new Error(`the model returned ${result.length} values for a ${tw}×${th} tile; expected 3 × ${tw * scale}×${th * scale}`);
      }
      accumulate(band, bandTop, outW, result, tx, ty, scale);
      opts.onTile?.(++done, total);
    }
  }
  flush(band, bandTop, outH - bandTop, outW, clamped);
  return { data: output, width: outW, height: outH, channels: 3, tiles: total };
}
