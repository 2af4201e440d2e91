import type { RawImage } from '../../image/raw.js';
import { distance, type Quad } from './quad.js';

/** A text line to read: its quad in the photo, corners in reading order, and its upright size. */
export interface LineQuad {
  quad: Quad;
  width: number;
  height: number;
}

/**
 * PaddleOCR's get_rotate_crop_image geometry: the crop is as wide and tall as the quad's longer
 * opposite sides; a crop at least 1.5 × taller than wide is turned a quarter (np.rot90), which
 * here is the quad's corners taken from the top-right.
 */
export function lineQuad(q: Quad): LineQuad {
  const width = Math.trunc(Math.max(distance(q[0], q[1]), distance(q[3], q[2])));
  const height = Math.trunc(Math.max(distance(q[0], q[3]), distance(q[1], q[2])));
  if (height / Math.max(1, width) >= 1.5) return { quad: [q[1], q[2], q[3], q[0]], width: height, height: width };
  return { quad: q, width, height };
}

/** The same line read upside down: the quad from its bottom-right corner. */
export const turned = (l: LineQuad): LineQuad => ({ ...l, quad: [l.quad[2], l.quad[3], l.quad[0], l.quad[1]] });

type Homography = [number, number, number, number, number, number, number, number];

/** The perspective map of the rectangle (0,0)–(w,h) onto the quad (cv2.getPerspectiveTransform). */
function homography(q: Quad, w: number, h: number): Homography {
  const from = [[0, 0], [w, 0], [w, h], [0, h]] as const;
  const a: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i]!;
    const [u, v] = q[i]!;
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  }
  for (let c = 0; c < 8; c++) {
    let pivot = c;
    for (let r = c + 1; r < 8; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[pivot]![c]!)) pivot = r;
    [a[c], a[pivot]] = [a[pivot]!, a[c]!];
    const p = a[c]![c]! || 1e-12;
    for (let r = 0; r < 8; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / p;
      for (let k = c; k < 9; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return a.map((row, i) => row[8]! / (row[i]! || 1e-12)) as Homography;
}

export interface SampleTarget {
  /** CHW float planes of `stride` × 48 (or the classifier's height); this line fills columns [0, width). */
  data: Float32Array;
  offset: number;
  stride: number;
  width: number;
  height: number;
}

/**
 * Warps the line straight to the recogniser's size (perspective crop and resize in one bilinear
 * pass, edge pixels repeated), writing BGR as (v / 255 − 0.5) / 0.5, PP-OCR's rec and cls input.
 */
export function sampleLine(src: RawImage, line: LineQuad, t: SampleTarget): void {
  const [h0, h1, h2, h3, h4, h5, h6, h7] = homography(line.quad, line.width, line.height);
  const { data: px, width: sw, height: sh, channels: ch } = src;
  const plane = t.stride * t.height;
  const kx = line.width / t.width;
  const ky = line.height / t.height;
  for (let v = 0; v < t.height; v++) {
    const y = (v + 0.5) * ky - 0.5;
    for (let u = 0; u < t.width; u++) {
      const x = (u + 0.5) * kx - 0.5;
      const d = h6 * x + h7 * y + 1;
      const sx = Math.min(sw - 1, Math.max(0, (h0 * x + h1 * y + h2) / d));
      const sy = Math.min(sh - 1, Math.max(0, (h3 * x + h4 * y + h5) / d));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(sw - 1, x0 + 1);
      const y1 = Math.min(sh - 1, y0 + 1);
      const fx = sx - x0;
      const fy = sy - y0;
      const i00 = (y0 * sw + x0) * ch;
      const i01 = (y0 * sw + x1) * ch;
      const i10 = (y1 * sw + x0) * ch;
      const i11 = (y1 * sw + x1) * ch;
      const o = t.offset + v * t.stride + u;
      for (let c = 0; c < 3; c++) {
        const top = px[i00 + c]! + (px[i01 + c]! - px[i00 + c]!) * fx;
        const bottom = px[i10 + c]! + (px[i11 + c]! - px[i10 + c]!) * fx;
        // BGR: channel c of the RGB source goes to plane 2 − c.
        t.data[o + (2 - c) * plane] = (top + (bottom - top) * fy) / 127.5 - 1;
      }
    }
  }
}
