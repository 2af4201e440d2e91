import { z } from 'zod';
import { detectionOptions } from './face/locate.js';
import type { LocateOptions } from './face/locate.js';

/** The face-finding options enhance-face and beauty-filter share. */
export const faceFinding = {
  ...detectionOptions,
  limit: z.number().int().min(1).max(50).default(20).describe('At most this many faces, largest scores first.'),
  onlyCenterFace: z.boolean().default(false).describe('Only the face nearest the image centre.'),
};

export const locateOptions = (o: Omit<LocateOptions, 'minScore'> & { minScore?: number | undefined }): LocateOptions => ({
  detector: o.detector,
  iouThreshold: o.iouThreshold,
  limit: o.limit,
  onlyCenterFace: o.onlyCenterFace,
  ...(o.minScore !== undefined ? { minScore: o.minScore } : {}),
});

export const strengthOption = (what: string, fallback: number) => z.number().min(0).max(1).default(fallback).describe(what);
