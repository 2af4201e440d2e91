import { boxToOriginal, nms, type ImageTransform, type WidthHeight } from '../../image/geometry.js';
import type { Candidate } from './candidates.js';
import { COCO_LABELS, type CocoLabel } from './labels.js';

/** What the API returns per object: the FotoFun client's `Detection`. Box in original-image pixels. */
export interface ObjectDetection {
  label: CocoLabel;
  classId: number;
  score: number;
  box: { x: number; y: number; width: number; height: number };
}

export interface SelectOptions {
  iouThreshold: number;
  maxDetections: number;
  /** Only these labels, when given. */
  classes?: readonly CocoLabel[];
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/**
 * Class-wise NMS (a person and the chair they sit on may overlap), the class filter, then the
 * best `maxDetections` overall, mapped back through the letterbox and clamped to the photo.
 */
export function selectDetections(candidates: readonly Candidate[], transform: ImageTransform, original: WidthHeight, opts: SelectOptions): ObjectDetection[] {
  const wanted = opts.classes && new Set(opts.classes);
  const byClass = new Map<number, Candidate[]>();
  for (const c of candidates) {
    const label = COCO_LABELS[c.classId];
    if (label === undefined || (wanted && !wanted.has(label))) continue;
    const group = byClass.get(c.classId);
    if (group) group.push(c);
    else byClass.set(c.classId, [c]);
  }
  const kept = [...byClass.values()].flatMap((group) => nms(group, opts.iouThreshold));
  return kept
    .sort((a, b) => b.score - a.score)
    .slice(0, opts.maxDetections)
    .map((c) => {
      const b = boxToOriginal(transform, c, original);
      return {
        label: COCO_LABELS[c.classId]!,
        classId: c.classId,
        score: Math.round(c.score * 1e4) / 1e4,
        box: { x: round1(b.x1), y: round1(b.y1), width: round1(b.x2 - b.x1), height: round1(b.y2 - b.y1) },
      };
    })
    .filter((d) => d.box.width > 0 && d.box.height > 0);
}
