import { encodeImage } from '../image/encode.js';
import type { RawImage } from '../image/raw.js';
import type { ImageFormat } from '../image/types.js';
import type { TaskContext, TaskResult } from './types.js';

/**
 * How an image task ends: encode with the last two progress steps, then the metadata, built after
 * encoding so the timings it reports include it.
 */
export async function imageResult(ctx: TaskContext, raw: RawImage, format: ImageFormat, metadata: () => Record<string, unknown>): Promise<TaskResult> {
  ctx.onProgress({ fraction: 0.95, stage: 'encode' });
  const image = await encodeImage(raw, format);
  ctx.onProgress({ fraction: 1, stage: 'done' });
  return { kind: 'image', image, format, metadata: metadata() };
}
