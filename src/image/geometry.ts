/** Sizes are always width first; tensors dims are [.., height, width], so name which is which. */
export interface WidthHeight {
  width: number;
  height: number;
}

/**
 * 'fill' stretches to the target; 'contain' keeps the aspect ratio and letterboxes with a pad
 * colour; 'cover' keeps the aspect ratio and crops the overflow, centred.
 */
export type Fit = 'fill' | 'contain' | 'cover';

/**
 * Maps original pixel coordinates into the model input: `input = original × scale + pad`.
 * padX/padY are the letterbox offsets for 'contain' and negative crop offsets for 'cover'.
 */
export interface ImageTransform {
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
}

export interface ResizePlan {
  /** The size the image is resized to before padding or cropping. */
  resized: WidthHeight;
  transform: ImageTransform;
}

/**
 * Scales are taken from the rounded resized size, not the ideal ratio, so mapping back lands on
 * the pixels the model actually saw.
 */
export function planResize(original: WidthHeight, target: WidthHeight, fit: Fit): ResizePlan {
  if (fit === 'fill') {
    return {
      resized: { ...target },
      transform: { scaleX: target.width / original.width, scaleY: target.height / original.height, padX: 0, padY: 0 },
    };
  }
  const ratioW = target.width / original.width;
  const ratioH = target.height / original.height;
  const ratio = fit === 'contain' ? Math.min(ratioW, ratioH) : Math.max(ratioW, ratioH);
  const clampSide = (v: number, t: number) => (fit === 'contain' ? Math.min(t, v) : Math.max(t, v));
  const width = clampSide(Math.max(1, Math.round(original.width * ratio)), target.width);
  const height = clampSide(Math.max(1, Math.round(original.height * ratio)), target.height);
  // contain: the image sits inside the target; cover: the target sits inside the image
  const offset = (inner: number, outer: number) => Math.floor((outer - inner) / 2);
  const padX = fit === 'contain' ? offset(width, target.width) : -offset(target.width, width);
  const padY = fit === 'contain' ? offset(height, target.height) : -offset(target.height, height);
  return {
    resized: { width, height },
    transform: { scaleX: width / original.width, scaleY: height / original.height, padX: padX + 0, padY: padY + 0 },
  };
}

/** Model-input coordinates → original image coordinates (unclamped). */
export function toOriginal(t: ImageTransform, x: number, y: number): { x: number; y: number } {
  return { x: (x - t.padX) / t.scaleX, y: (y - t.padY) / t.scaleY };
}

/** Original image coordinates → model-input coordinates. */
export function toInput(t: ImageTransform, x: number, y: number): { x: number; y: number } {
  return { x: x * t.scaleX + t.padX, y: y * t.scaleY + t.padY };
}

/** Corner box in pixels (x right, y down, continuous coordinates). */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface ScoredBox extends Box {
  score: number;
}

export function area(b: Box): number {
  return Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
}

export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (area(a) + area(b) - inter);
}

/**
 * Greedy non-maximum suppression by score. faceplugin's reference sorts by the box's bottom edge and
 * measures overlap against one box's area, which keeps the wrong box of a pair; plain IoU by score
 * is the textbook form and what detectors are trained with.
 */
export function nms<T extends ScoredBox>(boxes: readonly T[], iouThreshold: number, limit = Infinity): T[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const candidate of sorted) {
    if (kept.length >= limit) break;
    if (kept.every((k) => iou(k, candidate) <= iouThreshold)) kept.push(candidate);
  }
  return kept;
}

/** A model-input box mapped back and clamped to the original image. */
export function boxToOriginal(t: ImageTransform, box: Box, original: WidthHeight): Box {
  const a = toOriginal(t, box.x1, box.y1);
  const b = toOriginal(t, box.x2, box.y2);
  const cx = (v: number) => Math.min(original.width, Math.max(0, v));
  const cy = (v: number) => Math.min(original.height, Math.max(0, v));
  return { x1: cx(a.x), y1: cy(a.y), x2: cx(b.x), y2: cy(b.y) };
}
