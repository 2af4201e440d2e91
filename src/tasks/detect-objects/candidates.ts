import type { ScoredBox } from '../../image/geometry.js';

/** A detection in model-input pixels, before NMS and the mapping back to the photo. */
export interface Candidate extends ScoredBox {
  classId: number;
}
