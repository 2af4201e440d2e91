import { boxMean } from '../../image/box-mean.js';
import { resamplePlane } from '../../image/resample.js';
import { guidedCoefficients } from '../remove-background/guided.js';

/** The coefficients are fitted with the face at most this wide, then upsampled (He and Sun's fast guided filter). */
const FIT_FACE_WIDTH = 160;

export interface SmoothOptions {
  /** The face's width in ROI pixels: sets the filter's window. */
  faceWidth: number;
  /** 0..1: how far skin chroma is pulled towards its local mean (blotches, redness). */
  tone: number;
  /** The skin mask over the ROI, for the tone pass's skin-only averages. */
  mask: Float32Array;
}

function planesOf(rgb: Uint8Array, n: number): [Float32Array, Float32Array, Float32Array] {
  const out: [Float32Array, Float32Array, Float32Array] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[c]![i] = rgb[i * 3 + c]! / 255;
  return out;
}

/**
 * Edge-preserving smoothing: each channel through the colour guided filter with the photo as its
 * own guide, so pores, fine lines and noise (variance under eps) flatten while the face's edges
 * (jaw, nose, eyelids: variance far over eps) stay. eps = 0.02 (a spread of ≈ 36 grey levels) with
 * a window of faceWidth/30: on the first face of faces-group-1.jpg, eps 0.004 / 0.01 / 0.02 / 0.05 cut the skin's
 * Laplacian energy at strength 0.5 by 27 / 38 / 46 / 56 % (0.25 would remove it all), and at 0.02
 * every face still matches its original embedding at ≥ 0.9 (test/beauty-filter).
 */
function guidedSmooth(rgb: Uint8Array, w: number, h: number, faceWidth: number): [Float32Array, Float32Array, Float32Array] {
  const n = w * h;
  const full = planesOf(rgb, n);
  const k = Math.min(1, FIT_FACE_WIDTH / faceWidth);
  const sw = Math.max(1, Math.round(w * k)), sh = Math.max(1, Math.round(h * k));
  const guide = k === 1 ? full : (full.map((p) => resamplePlane(p, w, h, sw, sh)) as [Float32Array, Float32Array, Float32Array]);
  const radius = Math.max(2, Math.round((faceWidth * k) / 30));
  const out: [Float32Array, Float32Array, Float32Array] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  for (let c = 0; c < 3; c++) {
    const coef = guidedCoefficients(guide, guide[c]!, sw, sh, radius, 0.02).map((p) => (k === 1 ? p : resamplePlane(p, sw, sh, w, h)));
    const [aR, aG, aB, b] = coef as [Float32Array, Float32Array, Float32Array, Float32Array];
    for (let i = 0; i < n; i++) out[c]![i] = aR[i]! * full[0][i]! + aG[i]! * full[1][i]! + aB[i]! * full[2][i]! + b[i]!;
  }
  return out;
}

/**
 * Tone evening: in YCbCr, skin chroma moves `tone` of the way to its skin-only local mean (over
 * a window of a fifth of the face), luma keeps the smoothed shading, so blotches and redness even
 * out without flattening the face's light.
 */
function evenTone(planes: [Float32Array, Float32Array, Float32Array], w: number, h: number, o: SmoothOptions): void {
  const n = w * h;
  const [R, G, B] = planes;
  const cb = new Float32Array(n), cr = new Float32Array(n), mcb = new Float32Array(n), mcr = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const y = 0.299 * R[i]! + 0.587 * G[i]! + 0.114 * B[i]!;
    cb[i] = B[i]! - y;
    cr[i] = R[i]! - y;
    mcb[i] = cb[i]! * o.mask[i]!;
    mcr[i] = cr[i]! * o.mask[i]!;
  }
  const r = Math.max(2, Math.round(o.faceWidth / 10));
  const [sm, sb, sr] = [boxMean(o.mask, w, h, r), boxMean(mcb, w, h, r), boxMean(mcr, w, h, r)];
  for (let i = 0; i < n; i++) {
    if (sm[i]! < 1e-3) continue;
    const y = 0.299 * R[i]! + 0.587 * G[i]! + 0.114 * B[i]!;
    const b2 = cb[i]! + o.tone * (sb[i]! / sm[i]! - cb[i]!);
    const r2 = cr[i]! + o.tone * (sr[i]! / sm[i]! - cr[i]!);
    R[i] = y + r2;
    B[i] = y + b2;
    G[i] = (y - 0.299 * R[i]! - 0.114 * B[i]!) / 0.587;
  }
}

/** The ROI smoothed and evened (RGB bytes, same layout): what the skin mask blends in. */
export function smoothSkin(rgb: Uint8Array, w: number, h: number, o: SmoothOptions): Uint8Array {
  const planes = guidedSmooth(rgb, w, h, o.faceWidth);
  if (o.tone > 0) evenTone(planes, w, h, o);
  const out = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.max(0, Math.min(255, Math.round(planes[c]![i]! * 255)));
  return out;
}
