import { z } from 'zod';
import { detectionOptions } from './face/locate.js';

/** The face-finding options enhance-face and beauty-filter share. */
export const faceFinding = {
  ...detectionOptions,
  limit: z.number().int().min(1).max(50).default(20).describe('At most this many faces, largest scores first.'),
  onlyCenterFace: z.boolean().default(false).describe('Only the face nearest the image centre.'),
};

export const strengthOption = (what: string, fallback: number) => z.number().min(0).max(1).default(fallback).describe(what);
