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

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** A model-input box mapped back and clamped to the original image. */
export function boxToOriginal(t: ImageTransform, box: Box, original: WidthHeight): Box {
  const a = toOriginal(t, box.x1, box.y1);
  const b = toOriginal(t, box.x2, box.y2);
  const cx = (v: number) => Math.min(original.width, Math.max(0, v));
  const cy = (v: number) => Math.min(original.height, Math.max(0, v));
  return { x1: cx(a.x), y1: cy(a.y), x2: cx(b.x), y2: cy(b.y) };
}
