import { convexHull, distance, insideQuad, minAreaRect, orderedBox, unclip, type Point, type Quad } from './quad.js';

export interface DbOptions {
  /** Probability above which a pixel is text (PaddleOCR's thresh). */
  binaryThreshold: number;
  /** Mean probability inside a box below which it is dropped (box_thresh). */
  boxThreshold: number;
  unclipRatio: number;
  maxCandidates: number;
}

export interface DetectedBox {
  quad: Quad;
  score: number;
}

const MIN_SIZE = 3;

/**
 * 8-connected regions of the binary map, each as the points a hull needs: every row's leftmost and
 * rightmost pixel (OpenCV traces the same outer border; the hull of both is the same polygon).
 */
function regions(bitmap: Uint8Array, w: number, h: number, max: number): Point[][] {
  const seen = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  const out: Point[][] = [];
  for (let start = 0; start < w * h && out.length < max; start++) {
    if (!bitmap[start] || seen[start]) continue;
    const rowMin = new Map<number, number>();
    const rowMax = new Map<number, number>();
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    while (top > 0) {
      const i = stack[--top]!;
      const x = i % w;
      const y = (i - x) / w;
      if (!(rowMin.get(y)! <= x)) rowMin.set(y, x);
      if (!(rowMax.get(y)! >= x)) rowMax.set(y, x);
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= w) continue;
          const j = ny * w + nx;
          if (bitmap[j] && !seen[j]) {
            seen[j] = 1;
            stack[top++] = j;
          }
        }
      }
    }
    const points: Point[] = [];
    for (const [y, x0] of rowMin) points.push([x0, y], [rowMax.get(y)!, y]);
    out.push(points);
  }
  return out;
}

/** PaddleOCR's box_score_fast: the mean probability over the pixels the quad covers. */
function boxScore(prob: Float32Array, w: number, h: number, q: Quad): number {
  const xs = q.map((p) => p[0]);
  const ys = q.map((p) => p[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const x1 = Math.min(w - 1, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const y1 = Math.min(h - 1, Math.ceil(Math.max(...ys)));
  let sum = 0;
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (!insideQuad(q, x, y)) continue;
      sum += prob[y * w + x]!;
      n++;
    }
  }
  return n ? sum / n : 0;
}

/** PaddleOCR's sorted_boxes: top to bottom, and left to right among boxes within 10 px of the same height. */
export function readingOrder<T extends { quad: Quad }>(boxes: T[]): T[] {
  const out = [...boxes].sort((a, b) => a.quad[0][1] - b.quad[0][1] || a.quad[0][0] - b.quad[0][0]);
  for (let i = 0; i < out.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const [a, b] = [out[j]!, out[j + 1]!];
      if (Math.abs(b.quad[0][1] - a.quad[0][1]) < 10 && b.quad[0][0] < a.quad[0][0]) [out[j], out[j + 1]] = [b, a];
      else break;
    }
  }
  return out;
}

/**
 * DB post-processing as PaddleOCR does it: binarise the probability map, take each region's
 * minimum-area box, score it on the map, unclip it, and map it to the original image's pixels.
 */
export function dbBoxes(prob: Float32Array, w: number, h: number, original: { width: number; height: number }, o: DbOptions): DetectedBox[] {
  const bitmap = new Uint8Array(w * h);
  for (let i = 0; i < bitmap.length; i++) bitmap[i] = prob[i]! > o.binaryThreshold ? 1 : 0;
  const sx = original.width / w;
  const sy = original.height / h;
  const boxes: DetectedBox[] = [];
  for (const points of regions(bitmap, w, h, o.maxCandidates)) {
    const rect = minAreaRect(convexHull(points));
    const { quad, shortSide } = orderedBox(rect);
    if (shortSide < MIN_SIZE) continue;
    const score = boxScore(prob, w, h, quad);
    if (score < o.boxThreshold) continue;
    const grown = orderedBox(unclip(rect, o.unclipRatio));
    if (grown.shortSide < MIN_SIZE + 2) continue;
    const mapped = grown.quad.map(([x, y]) => [
      Math.min(original.width - 1, Math.max(0, Math.round(x * sx))),
      Math.min(original.height - 1, Math.max(0, Math.round(y * sy))),
    ]) as Quad;
    if (distance(mapped[0], mapped[1]) <= 3 || distance(mapped[0], mapped[3]) <= 3) continue;
    boxes.push({ quad: mapped, score });
  }
  return readingOrder(boxes);
}
