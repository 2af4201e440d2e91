import { letterbox, type Letterbox, type SizeWH } from './geometry.js';
import { resizeRgb, type Normalisation, type RgbImage } from './raster.js';

export type Layout = 'chw' | 'hwc';

export interface LetterboxInput {
  data: Float32Array;
  letterbox: Letterbox;
}

/**
 * The whole image scaled into a fixed model input without distortion; the border gets the value
 * a mid-grey pixel normalises to, so it reads as "nothing here" rather than as a black frame.
 */
export async function letterboxInput(
  img: RgbImage,
  input: SizeWH,
  norm: Normalisation,
  layout: Layout,
): Promise<LetterboxInput> {
  const lb = letterbox(img, input);
  const resized = await resizeRgb(img, lb.resized.width, lb.resized.height);
  const data = new Float32Array(3 * input.width * input.height);
  fillBorder(data, input, norm, layout);
  paste(resized, lb, norm, layout, data);
  return { data, letterbox: lb };
}

function fillBorder(data: Float32Array, input: SizeWH, norm: Normalisation, layout: Layout): void {
  const plane = input.width * input.height;
  for (let c = 0; c < 3; c++) {
    const v = (127.5 - norm.mean[c]!) / norm.std[c]!;
    if (layout === 'chw') data.fill(v, c * plane, (c + 1) * plane);
    else for (let p = c; p < data.length; p += 3) data[p] = v;
  }
}

function paste(src: RgbImage, lb: Letterbox, norm: Normalisation, layout: Layout, out: Float32Array): void {
  const W = lb.input.width;
  const plane = W * lb.input.height;
  const [m0, m1, m2] = norm.mean;
  const [s0, s1, s2] = norm.std;
  const d = src.data;
  for (let y = 0; y < src.height; y++) {
    let s = y * src.width * 3;
    const row = (y + lb.padY) * W + lb.padX;
    for (let x = 0; x < src.width; x++, s += 3) {
      const p = row + x;
      if (layout === 'chw') {
        out[p] = (d[s]! - m0) / s0;
        out[plane + p] = (d[s + 1]! - m1) / s1;
        out[2 * plane + p] = (d[s + 2]! - m2) / s2;
      } else {
        out[3 * p] = (d[s]! - m0) / s0;
        out[3 * p + 1] = (d[s + 1]! - m1) / s1;
        out[3 * p + 2] = (d[s + 2]! - m2) / s2;
      }
    }
  }
}
