import { AppError } from '../errors.js';

const DATA_URL = /^data:([^,]*),/;
const WHITESPACE = /[\t\n\r ]+/g;
const OUTSIDE_ALPHABET = /[^A-Za-z0-9+/=]/;
const BODY_THEN_PADDING = /^[A-Za-z0-9+/]*={0,2}$/;

function notBase64(field: string, why: string): AppError {
  return new AppError('INVALID_IMAGE', `Field "${field}" is not valid base64: ${why}. Send standard base64 (RFC 4648) or a data URL.`, {
    details: { field },
  });
}

function stripDataUrl(text: string, field: string): string {
  const m = DATA_URL.exec(text.slice(0, 256));
  if (!m) return text;
  if (!/;base64$/i.test(m[1]!)) {
    throw notBase64(field, 'the data URL is not base64-encoded (expected data:image/...;base64,...)');
  }
  return text.slice(m[0].length);
}

/**
 * A base64 string or `data:...;base64,` URL → bytes. Node's decoder silently skips bad
 * characters, so the alphabet and padding are checked first; line breaks (MIME-wrapped base64)
 * are allowed, unpadded input is allowed, misplaced or excess padding is not.
 */
export function decodeBase64Image(text: string, field: string): Buffer {
  const body = stripDataUrl(text, field).replace(WHITESPACE, '');
  if (!BODY_THEN_PADDING.test(body)) {
    const bad = OUTSIDE_ALPHABET.exec(body);
    throw notBase64(field, bad ? `character ${JSON.stringify(bad[0])} at offset ${bad.index} (line breaks ignored) is outside the alphabet` : "'=' padding is misplaced or longer than two characters");
  }
  const padded = body.endsWith('=');
  if (body.length % 4 === 1 || (padded && body.length % 4 !== 0)) {
    throw notBase64(field, `its length (${body.length}) does not fit base64 padding`);
  }
  return Buffer.from(body, 'base64');
}
