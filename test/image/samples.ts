import { readFileSync } from 'node:fs';
import { fixturePath } from '../kit/fixtures.js';
import zlib from 'node:zlib';
import sharp from 'sharp';

export function fixture(name: string): Buffer {
  return readFileSync(fixturePath(name));
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/** A well-formed PNG header (valid CRCs) declaring any size, with a few bytes of pixel data. */
export function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(16))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A 2×2 24-bit BMP. */
export function bmp(): Buffer {
  const buf = Buffer.alloc(54 + 16);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(2, 18);
  buf.writeInt32LE(2, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  return buf;
}

export const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');

export interface Solid {
  width: number;
  height: number;
  rgb?: readonly [number, number, number];
  alpha?: number;
}

export function solid({ width, height, rgb = [200, 100, 50], alpha }: Solid) {
  const [r, g, b] = rgb;
  return sharp({
    create: { width, height, channels: alpha === undefined ? 3 : 4, background: { r, g, b, alpha: alpha ?? 1 } },
  });
}

/** Left half red, right half blue: orientation and crops are visible in pixel values. */
export function halves(width: number, height: number) {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (x < width / 2) raw[o] = 255;
      else raw[o + 2] = 255;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } });
}

/** A copy on its own ArrayBuffer, the shape fetch and Blob accept. */
export function body(buf: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(buf);
}
