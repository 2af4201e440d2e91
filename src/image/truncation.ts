import type { ImageFormat } from './types.js';

const EOI = Buffer.from([0xff, 0xd9]);
const IEND = Buffer.from('IEND', 'latin1');

/** Offset of the first start-of-scan marker, walking the JPEG segment headers; -1 if none. */
function jpegScanStart(buf: Buffer): number {
  let i = 2;
  while (i + 4 <= buf.length) {
    if (buf[i] !== 0xff) return -1;
    const marker = buf[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0xda) return i;
    const standalone = marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
    i += standalone ? 2 : 2 + buf.readUInt16BE(i + 2);
  }
  return -1;
}

/**
 * A cheap O(n) memchr-style test that the file's end marker is present: a JPEG cut short has no
 * EOI after its first scan (the EXIF thumbnail's EOI comes before the scan, so it cannot fool
 * this), a PNG no IEND chunk, a WebP fewer bytes than its RIFF header declares. It cannot see
 * corruption inside the data; the full decode (failOn 'error') catches that.
 */
export function looksTruncated(buf: Buffer, format: ImageFormat): boolean {
  switch (format) {
    case 'jpeg': {
      const scan = jpegScanStart(buf);
      return scan < 0 || buf.indexOf(EOI, scan) < 0;
    }
    case 'png':
      return buf.lastIndexOf(IEND) < 8;
    case 'webp':
      return buf.length < 12 || buf.readUInt32LE(4) + 8 > buf.length;
  }
}
