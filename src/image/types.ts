export const IMAGE_FORMATS = ['jpeg', 'png', 'webp'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/**
 * An image that passed intake: real type known from its magic bytes, size within MAX_FILE_SIZE,
 * header dimensions within MAX_IMAGE_PIXELS. Not decoded yet; `width`/`height` are after EXIF
 * orientation is applied.
 */
export interface ValidatedImage {
  buffer: Buffer;
  format: ImageFormat;
  width: number;
  height: number;
  hasAlpha: boolean;
}
