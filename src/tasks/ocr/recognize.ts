import type { RawImage } from '../../image/raw.js';
import type { ModelRunner } from '../../models/runner.js';
import { runFloat, type RunStats } from '../model-run.js';
import { AppError } from '../../errors.js';
import { sampleLine, turned, type LineQuad } from './line-crop.js';
import { CLS, OCR_MODELS, REC } from './models.js';

const CLS_BATCH = 16;


export interface ReadLine {
  text: string;
  confidence: number;
  turned: boolean;
}


/** PP-OCR's direction classifier: a line it calls 180° with more than 0.9 is read turned. */
export async function orient(src: RawImage, lines: LineQuad[], runner: ModelRunner, signal: AbortSignal, stats: RunStats): Promise<LineQuad[]> {
  const out = [...lines];
  for (let b = 0; b < lines.length; b += CLS_BATCH) {
    const batch = lines.slice(b, b + CLS_BATCH);
    const plane = CLS.width * CLS.height;
    const data = new Float32Array(batch.length * 3 * plane);
    batch.forEach((line, i) => {
      const width = Math.min(CLS.width, Math.ceil(CLS.height * (line.width / Math.max(1, line.height))));
      sampleLine(src, line, { data, offset: i * 3 * plane, stride: CLS.width, width: Math.max(1, width), height: CLS.height });
    });
    const probs = (await runFloat(runner, OCR_MODELS.cls, CLS, data, [batch.length, 3, CLS.height, CLS.width], signal, stats)).data as Float32Array;
    batch.forEach((line, i) => {
      if (probs[i * 2 + 1]! > probs[i * 2]! && probs[i * 2 + 1]! > CLS.flipThreshold) out[b + i] = turned(line);
    });
  }
  return out;
}

/** CTC greedy decoding: the best symbol per step, repeats merged, blanks dropped; confidence is the kept steps' mean. */
export function ctcDecode(probs: Float32Array, steps: number, classes: number, chars: readonly string[], offset = 0): { text: string; confidence: number } {
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const base = offset + t * classes;
    let best = 0;
    let bestP = probs[base]!;
    for (let k = 1; k < classes; k++) {
      if (probs[base + k]! > bestP) {
        bestP = probs[base + k]!;
        best = k;
      }
    }
    if (best !== 0 && best !== previous) {
      text += chars[best] ?? '';
      sum += bestP;
      kept++;
    }
    previous = best;
  }
  return { text, confidence: kept ? sum / kept : 0 };
}

/** Input width a run may hold in all: narrow lines share a run, wide ones run alone. */
const BATCH_PIXELS = 512;
/** Padding a run may add to its lines' own widths. */
const MAX_PADDING = 0.1;

/** Each line's input width: 48 high, width by aspect ratio (at least 8 px, the model's stride). */
const lineWidth = (l: LineQuad) => Math.max(8, Math.ceil(REC.height * (l.width / Math.max(1, l.height))));

/**
 * Runs of lines of nearly the same width, narrowest first. Measured on CPU per line: a batch of
 * four costs 2.6 ms a line at 64 px against 4.2 ms alone, but 21 ms at 480 px against 17 ms alone,
 * so runs hold at most 512 px of input in all; and PaddleOCR's padding of every batch to ≥ 320 px
 * and to its widest line is pure waste, so a run pads at most 10 %.
 */
export function widthBatches(widths: readonly number[]): number[][] {
  const order = widths.map((_, i) => i).sort((a, b) => widths[a]! - widths[b]!);
  const batches: number[][] = [];
  let current: number[] = [];
  let sum = 0;
  for (const i of order) {
    const w = widths[i]!;
    const n = current.length + 1;
    if (current.length && (w * n > BATCH_PIXELS || w * n > (sum + w) * (1 + MAX_PADDING))) {
      batches.push(current);
      [current, sum] = [[], 0];
    }
    current.push(i);
    sum += w;
  }
  if (current.length) batches.push(current);
  return batches;
}

/** Recognises lines in runs of similar width; answers in the lines' order. */
export async function recognise(src: RawImage, lines: LineQuad[], chars: readonly string[], runner: ModelRunner, signal: AbortSignal, stats: RunStats): Promise<{ text: string; confidence: number }[]> {
  const widths = lines.map(lineWidth);
  const results: { text: string; confidence: number }[] = new Array(lines.length);
  for (const ids of widthBatches(widths)) {
    const width = Math.max(...ids.map((i) => widths[i]!));
    const plane = width * REC.height;
    const data = new Float32Array(ids.length * 3 * plane);
    ids.forEach((id, k) => sampleLine(src, lines[id]!, { data, offset: k * 3 * plane, stride: width, width: widths[id]!, height: REC.height }));
    const out = await runFloat(runner, OCR_MODELS.rec, REC, data, [ids.length, 3, REC.height, width], signal, stats);
    const [, steps, classes] = out.dims as [number, number, number];
    if (classes !== chars.length) {
      throw new AppError('PROCESSING_ERROR', `Model ${OCR_MODELS.rec} scores ${classes} symbols but ${REC.keysFile} gives ${chars.length}; the weights and the character list do not match.`);
    }
    ids.forEach((id, k) => {
      results[id] = ctcDecode(out.data as Float32Array, steps, classes, chars, k * steps * classes);
    });
  }
  return results;
}
