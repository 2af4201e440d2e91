import sharp from 'sharp';
import { fixturePath } from '../kit/fixtures.js';

export const FONTS = { sans: fixturePath('fonts/DejaVuSans.ttf'), serif: fixturePath('fonts/DejaVuSerif.ttf') } as const;

export interface TextLine {
  text: string;
  /** Text height in pixels (pango's size at 72 dpi). */
  size: number;
  font?: keyof typeof FONTS;
  x?: number;
}

/** Black text lines on white, one under another, rendered by sharp (pango) from the repository's own font files. */
export async function renderLines(lines: TextLine[], opts: { width?: number; gap?: number; margin?: number } = {}): Promise<Buffer> {
  const margin = opts.margin ?? 30;
  const parts: { input: Buffer; left: number; top: number }[] = [];
  let top = margin;
  let width = opts.width ?? 0;
  for (const line of lines) {
    const font = line.font ?? 'sans';
    const { data, info } = await sharp({
      text: { text: line.text, font: `${font === 'sans' ? 'DejaVu Sans' : 'DejaVu Serif'} ${line.size}px`, fontfile: FONTS[font], dpi: 72, rgba: true },
    }).png().toBuffer({ resolveWithObject: true });
    parts.push({ input: data, left: margin + (line.x ?? 0), top });
    width = Math.max(width, margin * 2 + (line.x ?? 0) + info.width);
    top += info.height + (opts.gap ?? Math.round(line.size * 0.8));
  }
  return sharp({ create: { width, height: top + margin, channels: 3, background: '#ffffff' } }).composite(parts).png().toBuffer();
}
