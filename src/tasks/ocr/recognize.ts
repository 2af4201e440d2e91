import type { RawImage } from '../../image/raw.js';
import type { DeviceId, ModelRunner } from '../../models/runner.js';
import { float32 } from '../../models/tensor.js';
import { AppError } from '../../errors.js';
import { sampleLine, turned, type LineQuad } from './line-crop.js';
import { CLS, OCR_MODELS, REC } from './models.js';

/** Lines per recogniser run: sorted by aspect ratio, so a batch pads little. */
const REC_BATCH = 8;
const CLS_BATCH = 16;

export interface RunStats {
  device: DeviceId | undefined;
  inferenceMs: number;
}

export interface ReadLine {
  text: string;
  confidence: number;
  turned: boolean;
}

async function run(runner: ModelRunner, id: string, input: string, output: string, data: Float32Array, dims: number[], signal: AbortSignal, stats: RunStats) {
  const result = await runner.run(id, { [input]: float32(data, dims) }, { signal, outputs: [output] });
  stats.device = result.device;
  stats.inferenceMs += result.inferenceMs;
  const out = result.outputs[output];
  if (!out || out.type !== 'float32' || out.dims[0] !== dims[0]) {
    throw new AppError('PROCESSING_ERROR', `Model ${id} returned no float32 "${output}" for ${dims[0]} lines; check that MODEL_DIR holds the right ${id}.onnx.`);
  }
  return out;
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
    const probs = (await run(runner, OCR_MODELS.cls, CLS.input, CLS.output, data, [batch.length, 3, CLS.height, CLS.width], signal, stats)).data as Float32Array;
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

/** Recognises lines in batches of similar aspect ratio; answers in the lines' order. */
export async function recognise(src: RawImage, lines: LineQuad[], chars: readonly string[], runner: ModelRunner, signal: AbortSignal, stats: RunStats): Promise<{ text: string; confidence: number }[]> {
  const ratio = (l: LineQuad) => l.width / Math.max(1, l.height);
  const order = lines.map((_, i) => i).sort((a, b) => ratio(lines[a]!) - ratio(lines[b]!));
  const results: { text: string; confidence: number }[] = new Array(lines.length);
  for (let b = 0; b < order.length; b += REC_BATCH) {
    const ids = order.slice(b, b + REC_BATCH);
    const maxRatio = Math.max(REC.minWidth / REC.height, ...ids.map((i) => ratio(lines[i]!)));
    const width = Math.trunc(REC.height * maxRatio);
    const plane = width * REC.height;
    const data = new Float32Array(ids.length * 3 * plane);
    ids.forEach((id, k) => {
      const w = Math.max(1, Math.min(width, Math.ceil(REC.height * ratio(lines[id]!))));
      sampleLine(src, lines[id]!, { data, offset: k * 3 * plane, stride: width, width: w, height: REC.height });
    });
    const out = await run(runner, OCR_MODELS.rec, REC.input, REC.output, data, [ids.length, 3, REC.height, width], signal, stats);
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
