import type { Candidate } from './candidates.js';

/** One NanoDet head level: class scores [cells, classes] (sigmoid applied) and box distributions [cells, 4·bins]. */
export interface NanoDetLevel {
  stride: number;
  scores: Float32Array;
  distributions: Float32Array;
}

/**
 * Generalised Focal Loss box decoding, as NanoDet defines it: each of a cell's four distances
 * (left, top, right, bottom) is a softmax over `bins` values 0…bins−1, and the distance is its
 * expectation times the stride, measured from the cell centre ((col + ½)·stride, (row + ½)·stride).
 * A cell yields a candidate for every class scoring at least `minScore`; class-wise NMS follows.
 */
export function decodeNanoDet(level: NanoDetLevel, inputSize: number, classes: number, minScore: number): Candidate[] {
  const cells = level.scores.length / classes;
  const bins = level.distributions.length / cells / 4;
  const grid = Math.round(inputSize / level.stride);
  const { scores, distributions, stride } = level;
  const out: Candidate[] = [];
  const probs = new Float64Array(bins);
  let sides: number[] = [];
  let sidesOf = -1;
  // One linear scan of the score grid; a cell's distances are decoded once, for its first hit.
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!;
    if (!(score >= minScore)) continue;
    const cell = (i / classes) | 0;
    if (sidesOf !== cell) {
      sides = [0, 1, 2, 3].map((s) => expectation(distributions, (cell * 4 + s) * bins, bins, probs) * stride);
      sidesOf = cell;
    }
    const cx = ((cell % grid) + 0.5) * stride;
    const cy = (Math.floor(cell / grid) + 0.5) * stride;
    out.push({ x1: cx - sides[0]!, y1: cy - sides[1]!, x2: cx + sides[2]!, y2: cy + sides[3]!, score, classId: i - cell * classes });
  }
  return out;
}

/** Σ i·softmax(logits)ᵢ over one side's bins, with the max subtracted for stability. */
function expectation(logits: Float32Array, offset: number, bins: number, probs: Float64Array): number {
  let max = -Infinity;
  for (let i = 0; i < bins; i++) max = Math.max(max, logits[offset + i]!);
  let sum = 0;
  for (let i = 0; i < bins; i++) sum += probs[i] = Math.exp(logits[offset + i]! - max);
  let e = 0;
  for (let i = 0; i < bins; i++) e += i * probs[i]!;
  return e / sum;
}
