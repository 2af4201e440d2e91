import type { Response } from 'express';
import type { ValidatedImage } from '../../image/types.js';
import type { ConcurrencyGate } from '../../middleware/overload.js';
import type { ModelRunner } from '../../models/runner.js';
import type { AnalyzeOptions, AnalyzedFace } from '../../tasks/face/pipeline.js';
import { analyseImage } from '../../tasks/face-detect.js';

export interface FaceRunDeps {
  runner: ModelRunner;
  gate: ConcurrencyGate;
}

/**
 * The face pipeline as the compatibility APIs run it: the default detector, in one overload-gate
 * slot, cancelled with the request; faces in the photo's pixels.
 */
export async function compatFaces(deps: FaceRunDeps, image: ValidatedImage, opts: Partial<AnalyzeOptions>, res: Response): Promise<AnalyzedFace[]> {
  const signal = res.locals.signal as AbortSignal | undefined;
  return deps.gate.run(signal, async () => {
    const analysis = await analyseImage(deps.runner, image, { detector: 'ultraface', iouThreshold: 0.4, limit: 100, plugins: [], ...opts }, signal ? { signal } : {});
    return analysis.faces;
  });
}
