import type { Candidate } from './candidates.js';

/** Columns of `tower_0/detections` [1, 100, 6]. */
const ROW = 6;

/**
 * MobileNetV3-CenterNet decodes itself: the graph keeps heatmap peaks (a 3×3 max-pool equality),
 * takes the top 100 and writes x1, y1, x2, y2 in input pixels, score and class id per row.
 */
export function decodeCenterNet(detections: Float32Array, minScore: number): Candidate[] {
  const out: Candidate[] = [];
  for (let r = 0; r + ROW <= detections.length; r += ROW) {
    const score = detections[r + 4]!;
    if (!(score >= minScore)) continue;
    const [x1, y1, x2, y2] = [detections[r]!, detections[r + 1]!, detections[r + 2]!, detections[r + 3]!];
    out.push({ x1, y1, x2, y2, score, classId: Math.round(detections[r + 5]!) });
  }
  return out;
}
