/** What the client accepts as an image: a Blob or File, raw bytes, or base64 / a data URL. */
export type ImageInput = Blob | ArrayBuffer | ArrayBufferView | string;

export async function toBytes(input: ImageInput): Promise<Uint8Array> {
  if (typeof input === 'string') return fromBase64(input.replace(/^data:[^,]*,/, ''));
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return new Uint8Array(await input.arrayBuffer());
}

export async function toBlob(input: ImageInput): Promise<Blob> {
  if (typeof Blob !== 'undefined' && input instanceof Blob) return input;
  const bytes = await toBytes(input);
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: sniffFormat(bytes) ?? 'application/octet-stream' });
}

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** What the JSON routes take: base64 or a data URL as given, anything else encoded. */
export async function base64Of(image: ImageInput): Promise<string> {
  return typeof image === 'string' ? image : toBase64(await toBytes(image));
}

export function fromBase64(b64: string): Uint8Array {
  const binary = atob(b64.replace(/\s+/g, ''));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => sig.every((v, i) => b[at + i] === v);
const ascii = (b: Uint8Array, at: number, len: number) => String.fromCharCode(...b.subarray(at, at + len));

/** The MIME type by the file's own bytes (what the service checks too), not by its name. */
export function sniffFormat(b: Uint8Array): string | undefined {
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'image/webp';
  if (ascii(b, 0, 4) === 'GIF8') return 'image/gif';
  if (ascii(b, 4, 4) === 'ftyp') return 'image/heic';
  if (startsWith(b, [0x42, 0x4d])) return 'image/bmp';
  return undefined;
}

/** Width and height from the header, without decoding (JPEG SOF, PNG IHDR, WebP VP8/VP8L/VP8X). */
export function headerSize(b: Uint8Array, format: string | undefined): { width: number; height: number } | undefined {
  const u16 = (at: number) => (b[at]! << 8) | b[at + 1]!;
  const le16 = (at: number) => b[at]! | (b[at + 1]! << 8);
  const le24 = (at: number) => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);
  if (format === 'image/png' && b.length >= 24) return { width: u16(16) * 65536 + u16(18), height: u16(20) * 65536 + u16(22) };
  if (format === 'image/jpeg') {
    for (let i = 2; i + 9 < b.length;) {
      if (b[i] !== 0xff) { i++; continue; }
      const marker = b[i + 1]!;
      if (marker === 0xff) { i++; continue; }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { i += 2; continue; }
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return { height: u16(i + 5), width: u16(i + 7) };
      i += 2 + u16(i + 2);
    }
    return undefined;
  }
  if (format === 'image/webp' && b.length >= 30) {
    const chunk = ascii(b, 12, 4);
    if (chunk === 'VP8 ') return { width: le16(26) & 0x3fff, height: le16(28) & 0x3fff };
    if (chunk === 'VP8L') return { width: 1 + (((b[22]! & 0x3f) << 8) | b[21]!), height: 1 + (((b[24]! & 0x0f) << 10) | (b[23]! << 2) | ((b[22]! & 0xc0) >> 6)) };
    if (chunk === 'VP8X') return { width: 1 + le24(24), height: 1 + le24(27) };
  }
  return undefined;
}

export interface ImageValidation {
  valid: boolean;
  /** The type by the bytes, when recognised. */
  format?: string;
  size: number;
  width?: number;
  height?: number;
  /** Why it would be refused, in words. */
  errors: string[];
}

/** Checks an image as the service will, before any upload: type by bytes, size, header dimensions. */
export async function validateImageInput(input: ImageInput, limits: { maxFileSize: number; supportedFormats: readonly string[] }): Promise<ImageValidation> {
  let bytes: Uint8Array;
  try {
    bytes = await toBytes(input);
  } catch {
    return { valid: false, size: 0, errors: ['not valid base64'] };
  }
  const errors: string[] = [];
  const format = sniffFormat(bytes);
  if (bytes.length === 0) errors.push('the image is empty');
  if (bytes.length > limits.maxFileSize) errors.push(`${bytes.length} bytes is over the ${limits.maxFileSize}-byte limit`);
  if (!format) errors.push('not an image type this service knows (by its bytes)');
  else if (!limits.supportedFormats.includes(format)) errors.push(`${format} is not supported; send ${limits.supportedFormats.join(', ')}`);
  const size = format ? headerSize(bytes, format) : undefined;
  if (format && limits.supportedFormats.includes(format) && (!size || size.width === 0 || size.height === 0)) errors.push('the header has no readable dimensions (truncated or corrupt)');
  return { valid: errors.length === 0, ...(format ? { format } : {}), size: bytes.length, ...(size ?? {}), errors };
}
