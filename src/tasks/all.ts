import { beautyFilterTask } from './beauty-filter.js';
import { detectObjectsTask } from './detect-objects.js';
import { enhanceFaceTask } from './enhance-face.js';
import { estimateDepthTask } from './estimate-depth.js';
import { faceAnalyzeTask, faceDetectTask } from './face-detect.js';
import { inpaintTask } from './inpaint.js';
import { ocrTask } from './ocr.js';
import { removeBackgroundTask } from './remove-background.js';
import { transferStyleTask } from './transfer-style.js';
import type { TaskDefinition } from './types.js';
import { upscaleTask } from './upscale.js';

/** Every task the service serves: the registry, OpenAPI and the client SDK's option types come from this list. */
export const ALL_TASKS: readonly TaskDefinition[] = [
  removeBackgroundTask, upscaleTask, faceDetectTask, faceAnalyzeTask, detectObjectsTask, estimateDepthTask,
  transferStyleTask, ocrTask, inpaintTask, enhanceFaceTask, beautyFilterTask,
];
