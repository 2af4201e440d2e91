import type { RawImage } from '../../image/raw.js';
import { yieldToLoop } from '../event-loop.js';
import { oklabToRgb, rgbToOklab } from './oklab.js';

export type Triple = [number, number, number];

/** Per-channel mean and standard deviation of interleaved Lab. */
export interface ColourStats {
  mean: Triple;
  std: Triple;
}

export interface ColourTransferOptions {
  /** 0 keeps the content, 1 moves its statistics all the way to the style's; linear in between. */
  strength: number;
  /** Match the chroma channels' whole distributions (CDF to CDF) instead of their mean and spread. */
  histogram: boolean;
  signal?: AbortSignal;
}

/** Pixels converted between event-loop turns: ~20 ms of work on one core. */
const CHUNK = 1 << 18;

export function labStats(lab: Float32Array): ColourStats {
  const n = lab.length / 3;
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  for (let i = 0; i < lab.length; i += 3) {
    for (let c = 0; c < 3; c++) {
      const v = lab[i + c]!;
      sum[c]! += v;
      sq[c]! += v * v;
    }
  }
  const mean = sum.map((s) => s / n) as Triple;
  const std = sq.map((s, c) => Math.sqrt(Math.max(0, s / n - mean[c]! ** 2))) as Triple;
  return { mean, std };
}

async function toLab(image: RawImage, signal?: AbortSignal): Promise<Float32Array> {
  const n = image.width * image.height;
  const lab = new Float32Array(n * 3);
  for (let p = 0; p < n; p += CHUNK) {
    rgbToOklab(image.data, image.channels, lab, p, Math.min(n, p + CHUNK));
    signal?.throwIfAborted();
    await yieldToLoop();
  }
  return lab;
}

/** Reinhard et al. 2001: scale each channel's deviation from its mean by the spread ratio, then move the mean. */
function statisticsMap(content: ColourStats, style: ColourStats): (v: number, c: number) => number {
  const gain = style.std.map((s, c) => (content.std[c]! > 1e-6 ? s / content.std[c]! : 1));
  return (v, c) => (v - content.mean[c]!) * gain[c]! + style.mean[c]!;
}

const BINS = 4096;

/**
 * One channel's cumulative distribution over BINS bins of its own range: O(n) and no copy, where
 * sorting a 12-megapixel photo's channel would hold the event loop for about a second.
 */
function cdf(lab: Float32Array, c: number): { lo: number; span: number; cumulative: Float64Array } {
  let [lo, hi] = [Infinity, -Infinity];
  for (let i = c; i < lab.length; i += 3) {
    if (lab[i]! < lo) lo = lab[i]!;
    if (lab[i]! > hi) hi = lab[i]!;
  }
  const span = hi - lo || 1;
  const cumulative = new Float64Array(BINS + 1);
  for (let i = c; i < lab.length; i += 3) cumulative[Math.min(BINS - 1, Math.floor(((lab[i]! - lo) / span) * BINS)) + 1]! += 1;
  const n = lab.length / 3;
  for (let b = 1; b <= BINS; b++) cumulative[b] = cumulative[b - 1]! + cumulative[b]! / n;
  return { lo, span, cumulative };
}

/** The value below which a share q of the channel lies, interpolated inside its bin. */
function quantile(d: ReturnType<typeof cdf>, q: number): number {
  const { lo, span, cumulative } = d;
  let b = 0;
  let hi = BINS;
  while (b < hi) {
    const mid = (b + hi) >> 1;
    if (cumulative[mid + 1]! < q) b = mid + 1;
    else hi = mid;
  }
  const inBin = cumulative[b + 1]! - cumulative[b]!;
  const f = inBin > 0 ? (q - cumulative[b]!) / inBin : 0.5;
  return lo + (span * (b + Math.min(1, Math.max(0, f)))) / BINS;
}

/** Histogram matching of a and b: a content value's quantile in the content, read off the style's distribution. */
function histogramMap(content: Float32Array, style: Float32Array): (v: number, c: number) => number {
  const tables = [1, 2].map((c) => {
    const own = cdf(content, c);
    const ref = cdf(style, c);
    // At each content bin edge: its quantile in the content, then the style's value there.
    const table = Float32Array.from({ length: BINS + 1 }, (_, b) => quantile(ref, own.cumulative[b]!));
    return { lo: own.lo, span: own.span, table };
  });
  return (v, c) => {
    const { lo, span, table } = tables[c - 1]!;
    const at = Math.min(BINS, Math.max(0, ((v - lo) / span) * BINS));
    const i = Math.floor(at);
    return i >= BINS ? table[BINS]! : table[i]! + (table[i + 1]! - table[i]!) * (at - i);
  };
}

/**
 * Colour and tone transfer of `style` onto `content` in Oklab; the content's structure is kept
 * (each channel is remapped monotonically) and its alpha, if any, untouched.
 */
export async function transferColour(content: RawImage, style: RawImage, opts: ColourTransferOptions): Promise<RawImage> {
  const lab = await toLab(content, opts.signal);
  const ref = await toLab(style, opts.signal);
  const statistics = statisticsMap(labStats(lab), labStats(ref));
  const chroma = opts.histogram ? histogramMap(lab, ref) : undefined;
  // Lightness always moves by mean and spread: an arbitrary photo's tone curve flattens or
  // exaggerates the content's edges (matched on the fixtures, edge correlation fell to 0.73).
  const map = chroma ? (v: number, c: number) => (c === 0 ? statistics(v, c) : chroma(v, c)) : statistics;
  const s = opts.strength;
  const out: RawImage = { ...content, data: Buffer.from(content.data) };
  const n = content.width * content.height;
  for (let p = 0; p < n; p += CHUNK) {
    const end = Math.min(n, p + CHUNK);
    for (let i = p * 3; i < end * 3; i++) {
      const v = lab[i]!;
      lab[i] = v + s * (map(v, i % 3) - v);
    }
    oklabToRgb(lab, out.data, content.channels, p, end);
    opts.signal?.throwIfAborted();
    await yieldToLoop();
  }
  return out;
}
