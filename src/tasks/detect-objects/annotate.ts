import { openImage } from '../../image/decode.js';
import type { ValidatedImage } from '../../image/types.js';
import type { ObjectDetection } from './detection.js';

/** One colour per class, spread around the hue circle so neighbouring ids differ. */
function colour(classId: number): string {
  return `hsl(${(classId * 137.508) % 360}, 85%, 50%)`;
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** An SVG overlay of labelled boxes, scaled with the photo so lines stay visible on large ones. */
export function overlaySvg(width: number, height: number, detections: readonly ObjectDetection[]): string {
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 400));
  const font = Math.max(12, stroke * 6);
  const parts = detections.map((d) => {
    const { x, y, width: w, height: h } = d.box;
    const c = colour(d.classId);
    const text = `${escapeXml(d.label)} ${Math.round(d.score * 100)}%`;
    const ty = y > font + stroke ? y - stroke : y + font + stroke;
    return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${c}" stroke-width="${stroke}"/>`
      + `<text x="${x + stroke}" y="${ty}" font-family="sans-serif" font-size="${font}" fill="${c}" stroke="black" stroke-width="${Math.max(1, stroke / 3)}" paint-order="stroke">${text}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** The photo (oriented as viewed) with its detections drawn on it, composited in libvips. */
export function drawDetections(image: ValidatedImage, detections: readonly ObjectDetection[]) {
  const svg = Buffer.from(overlaySvg(image.width, image.height, detections));
  return openImage(image).composite([{ input: svg, left: 0, top: 0 }]);
}
