import { AppError } from '../errors.js';
import type { ImageFormat } from './types.js';

/** A type recognised by its magic bytes that the service does not accept. */
interface Refused {
  id: string;
  label: string;
}

const ACCEPTED_LABEL = 'JPEG, PNG or WebP';
const ACCEPTED: readonly ImageFormat[] = ['jpeg', 'png', 'webp'];

const ISO_BMFF_BRANDS: Record<string, Refused> = {
  heic: { id: 'heic', label: 'HEIC' },
  heix: { id: 'heic', label: 'HEIC' },
  hevc: { id: 'heic', label: 'HEIC' },
  heim: { id: 'heic', label: 'HEIC' },
  heis: { id: 'heic', label: 'HEIC' },
  mif1: { id: 'heif', label: 'HEIF' },
  msf1: { id: 'heif', label: 'HEIF' },
  avif: { id: 'avif', label: 'AVIF' },
  avis: { id: 'avif', label: 'AVIF' },
};

function startsWith(buf: Buffer, bytes: readonly number[], at = 0): boolean {
  if (buf.length < at + bytes.length) return false;
  return bytes.every((b, i) => buf[at + i] === b);
}

function ascii(buf: Buffer, start: number, end: number): string {
  return buf.subarray(start, end).toString('latin1');
}

function acceptedFormat(buf: Buffer): ImageFormat | undefined {
  if (startsWith(buf, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(buf, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(buf, 0, 4) === 'RIFF' && ascii(buf, 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** Text formats: an SVG (or any XML) after an optional BOM and leading whitespace. */
function markupFormat(buf: Buffer): Refused | undefined {
  const head = buf.subarray(0, 512).toString('utf8').replace(/^\uFEFF/, '').trimStart().toLowerCase();
  if (head.startsWith('<svg')) return { id: 'svg', label: 'SVG' };
  if (head.startsWith('<?xml')) return { id: head.includes('<svg') ? 'svg' : 'xml', label: 'SVG/XML' };
  return undefined;
}

function isoBmffFormat(buf: Buffer): Refused | undefined {
  if (ascii(buf, 4, 8) !== 'ftyp') return undefined;
  return ISO_BMFF_BRANDS[ascii(buf, 8, 12)] ?? { id: 'isobmff', label: 'ISO media (MP4/MOV/3GP)' };
}

function refusedFormat(buf: Buffer): Refused | undefined {
  const a4 = ascii(buf, 0, 4);
  if (a4 === 'GIF8') return { id: 'gif', label: 'GIF' };
  if (ascii(buf, 0, 2) === 'BM' && buf.length >= 26) return { id: 'bmp', label: 'BMP' };
  if (a4 === 'II*\0' || a4 === 'MM\0*') return { id: 'tiff', label: 'TIFF' };
  if (ascii(buf, 0, 5) === '%PDF-') return { id: 'pdf', label: 'PDF' };
  if (a4 === '8BPS') return { id: 'psd', label: 'Photoshop PSD' };
  if (startsWith(buf, [0x00, 0x00, 0x01, 0x00])) return { id: 'ico', label: 'ICO' };
  if (startsWith(buf, [0xff, 0x0a]) || ascii(buf, 4, 8) === 'JXL ') return { id: 'jxl', label: 'JPEG XL' };
  if (ascii(buf, 4, 8) === 'jP  ' || startsWith(buf, [0xff, 0x4f, 0xff, 0x51])) return { id: 'jp2', label: 'JPEG 2000' };
  if (ascii(buf, 0, 8) === 'gimp xcf') return { id: 'xcf', label: 'GIMP XCF' };
  return isoBmffFormat(buf) ?? markupFormat(buf);
}

/**
 * The image's real type from its magic bytes, whatever the client declared. Accepted types are
 * returned; recognised but unsupported ones are refused with 415 naming the type, so a client that
 * sent a GIF or a HEIC learns what to convert rather than seeing "corrupt image".
 */
export function detectFormat(buf: Buffer): ImageFormat {
  if (buf.length === 0) {
    throw new AppError('INVALID_IMAGE', `The image is empty (0 bytes); send a ${ACCEPTED_LABEL} file.`);
  }
  const format = acceptedFormat(buf);
  if (format) return format;
  const refused = refusedFormat(buf);
  if (refused) {
    throw new AppError(
      'UNSUPPORTED_FORMAT',
      `The image is a ${refused.label} file; accepted formats are ${ACCEPTED_LABEL}. Convert it to one of those.`,
      { details: { detected: refused.id, accepted: ACCEPTED } },
    );
  }
  throw new AppError('INVALID_IMAGE', `The data is not a recognisable image; send a ${ACCEPTED_LABEL} file.`, {
    details: { accepted: ACCEPTED },
  });
}
