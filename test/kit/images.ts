import type { ValidatedImage } from '../../src/image/types.js';
import { validateImage } from '../../src/image/validate.js';

/** An encoded image through intake's validation, as a route hands it to a task. */
export function validated(buffer: Buffer): Promise<ValidatedImage> {
  return validateImage(buffer, { maxFileSize: 50e6, maxPixels: 40e6 });
}
