import { AppError } from '../../errors.js';

/** One step of an upscale: a model pass at its native scale, or a Lanczos resize to a size. */
export type UpscaleStep =
  | { kind: 'model'; modelId: string; scale: number; width: number; height: number }
  | { kind: 'resize'; width: number; height: number };

export interface UpscalePlan {
  steps: UpscaleStep[];
  width: number;
  height: number;
  /** Pixels of the largest image any step produces (an intermediate can exceed the output). */
  peakPixels: number;
}

type Factor = { kind: 'model'; scale: number } | { kind: 'resize'; factor: number };

/**
 * Scale factors relative to the input. A native variant runs alone; a smaller target runs the
 * nearest native scale above it and resizes down; a larger one (×8 with a ×4 model) reaches
 * target / max with the same rules, then runs the largest variant, so the second pass works on
 * the smallest image that gives the target.
 */
function factors(natives: number[], target: number): Factor[] {
  if (natives.includes(target)) return [{ kind: 'model', scale: target }];
  const max = Math.max(...natives);
  if (target <= max) {
    const above = Math.min(...natives.filter((s) => s >= target));
    return [{ kind: 'model', scale: above }, { kind: 'resize', factor: target }];
  }
  return [...factors(natives, target / max), { kind: 'model', scale: max }];
}

/** The steps that take a width × height image to round(width · target) × round(height · target). */
export function planUpscale(variants: Readonly<Record<number, string>>, width: number, height: number, target: number): UpscalePlan {
  const natives = Object.keys(variants).map(Number);
  const outW = Math.max(1, Math.round(width * target));
  const outH = Math.max(1, Math.round(height * target));
  const steps: UpscaleStep[] = [];
  let [w, h] = [width, height];
  for (const f of factors(natives, target)) {
    if (f.kind === 'model') {
      [w, h] = [w * f.scale, h * f.scale];
      steps.push({ kind: 'model', modelId: variants[f.scale] as string, scale: f.scale, width: w, height: h });
    } else {
      [w, h] = [Math.max(1, Math.round(width * f.factor)), Math.max(1, Math.round(height * f.factor))];
      steps.push({ kind: 'resize', width: w, height: h });
    }
  }
  if (w !== outW || h !== outH) steps.push({ kind: 'resize', width: outW, height: outH });
  const peakPixels = Math.max(...steps.map((s) => s.width * s.height));
  return { steps, width: outW, height: outH, peakPixels };
}

export function modelIds(plan: UpscalePlan): string[] {
  return [...new Set(plan.steps.flatMap((s) => (s.kind === 'model' ? [s.modelId] : [])))];
}

/** The largest input of the same aspect ratio whose plan stays within maxPixels. */
function largestInput(width: number, height: number, peakPixels: number, maxPixels: number) {
  const ratio = peakPixels / (width * height);
  const pixels = Math.floor(maxPixels / ratio);
  const w = Math.max(1, Math.floor(Math.sqrt((pixels * width) / height)));
  const h = Math.max(1, Math.floor((w * height) / width));
  return { pixels, width: w, height: h };
}

/** 413 IMAGE_TOO_LARGE when any image of the plan would exceed MAX_OUTPUT_PIXELS. */
export function checkOutputSize(plan: UpscalePlan, width: number, height: number, target: number, maxPixels: number): void {
  if (plan.peakPixels <= maxPixels) return;
  const peak = plan.steps.reduce((a, s) => (s.width * s.height > a.width * a.height ? s : a));
  const largest = largestInput(width, height, plan.peakPixels, maxPixels);
  const mp = (n: number) => `${(n / 1e6).toFixed(1)} MP`;
  throw new AppError(
    'IMAGE_TOO_LARGE',
    `Upscaling ${width}×${height} by ${target} makes a ${peak.width}×${peak.height} image (${mp(plan.peakPixels)}), over the ` +
      `${mp(maxPixels)} output limit (MAX_OUTPUT_PIXELS). Send at most ${largest.pixels} pixels for this scale ` +
      `(e.g. ${largest.width}×${largest.height}) or choose a smaller scale.`,
    {
      details: {
        scale: target,
        width,
        height,
        outputWidth: peak.width,
        outputHeight: peak.height,
        outputPixels: plan.peakPixels,
        maxOutputPixels: maxPixels,
        largestInput: largest,
      },
    },
  );
}
