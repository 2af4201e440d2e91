import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { decodeBase64Image } from '../image/base64.js';
import { IMAGE_FORMATS, type ImageFormat, type ValidatedImage } from '../image/types.js';
import { validateImage, type ImageLimits } from '../image/validate.js';
import type { Config } from '../config.js';

export interface IntakeLimits extends ImageLimits {
  /** Names of the image fields, e.g. ['source', 'target'] for face verify. Default ['image']. */
  imageFields?: readonly string[];
  /** Those of imageFields a request may leave out, e.g. style transfer's 'style' beside a preset. */
  optionalFields?: readonly string[];
}

export interface ImageRequest {
  images: Record<string, ValidatedImage>;
  /** A plain object, `{}` when the client sent none; the endpoint's zod schema validates it. */
  options: unknown;
  /** The `format` the client asked for (the seed contract's output format), if any. */
  format?: ImageFormat;
}

/** What a body parser hands over before validation: encoded bytes per image field. */
interface ParsedBody {
  buffers: Record<string, Buffer>;
  options: Record<string, unknown>;
  format?: unknown;
}

interface BodyLimits {
  fields: readonly string[];
  optional: readonly string[];
  maxFileSize: number;
  /** Whole body, bytes: room for every image as base64 plus 64 KiB of JSON or form fields. */
  maxBody: number;
}

const RAW_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream']);
const ACCEPTED_TYPES = 'application/json, multipart/form-data, image/jpeg, image/png, image/webp or application/octet-stream';
const FIELD_OVERHEAD = 64 * 1024;
const FormatSchema = z.string().transform((v) => v.toLowerCase().replace(/^jpg$/, 'jpeg')).pipe(z.enum(IMAGE_FORMATS));
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

function tooLarge(limit: number): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', `The request body is larger than the limit of ${limit} bytes; send a smaller image.`, {
    details: { limitBytes: limit },
    // the rest of the upload is not read; closing lets the client see the 413 instead of a stall
    headers: { Connection: 'close' },
  });
}

/** Stops reading a request we have given up on without resetting the socket under the response. */
function abandon(req: IncomingMessage): void {
  req.unpipe();
  req.removeAllListeners('data');
  req.resume();
}

function unreadable(cause?: unknown): AppError {
  return new AppError('INVALID_REQUEST', 'The request body ended before it was complete.', { cause });
}

function checkDeclaredLength(req: IncomingMessage, limit: number): void {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
}

/** Buffers the body, counting bytes as they arrive; refuses at the first byte over the limit. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  checkDeclaredLength(req, limit);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        abandon(req);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', (err) => reject(unreadable(err)));
    req.once('close', () => {
      if (!req.complete) reject(unreadable());
    });
  });
}

function missingField(field: string, how: string): AppError {
  return new AppError('INVALID_REQUEST', `The request has no "${field}" ${how}.`, { details: { field } });
}

function checkOptionsObject(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new AppError('INVALID_OPTIONS', `"options" must be a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}.`);
}

async function readJson(req: IncomingMessage, limits: BodyLimits): Promise<ParsedBody> {
  const text = (await readBody(req, limits.maxBody)).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AppError('INVALID_JSON', 'The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('INVALID_REQUEST', 'The JSON body must be an object like {"image": "<base64>", "options": {}}.');
  }
  const fields = body as Record<string, unknown>;
  const buffers: Record<string, Buffer> = {};
  for (const name of limits.fields) {
    const value = fields[name];
    if ((value === undefined || value === null || value === '') && limits.optional.includes(name)) continue;
    if (value === undefined || value === null || value === '') throw missingField(name, 'field: send the image as base64 or a data URL');
    if (typeof value !== 'string') throw new AppError('INVALID_REQUEST', `Field "${name}" must be a base64 string or a data URL.`, { details: { field: name } });
    buffers[name] = decodeBase64Image(value, name);
  }
  return { buffers, options: checkOptionsObject(fields.options), format: fields.format };
}

/**
 * Plain form fields become options: "true"/"false" → booleans, decimal numbers without leading
 * zeros → numbers (so "000000" stays a string), text starting with { or [ that parses → JSON,
 * anything else stays a string. `options[x]` and `options.x` name option x; a repeated name
 * collects an array.
 */
export function coerceField(value: string): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (NUMBER.test(value) && Number.isFinite(Number(value))) return Number(value);
  if (/^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

function addFormOption(options: Record<string, unknown>, rawName: string, value: string): void {
  const name = rawName.replace(/^options\[(.+)\]$/, '$1').replace(/^options\./, '');
  const coerced = coerceField(value);
  const previous = options[name];
  if (previous === undefined) options[name] = coerced;
  else options[name] = Array.isArray(previous) ? [...previous, coerced] : [previous, coerced];
}

function parseOptionsField(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new AppError('INVALID_JSON', 'The "options" form field is not valid JSON.');
  }
  return checkOptionsObject(parsed);
}

/** Multipart form state: files and fields as busboy emits them. */
class FormCollector {
  readonly buffers: Record<string, Buffer> = {};
  readonly fieldOptions: Record<string, unknown> = {};
  jsonOptions: Record<string, unknown> = {};
  format?: string;

  constructor(private readonly fields: readonly string[], private readonly optional: readonly string[]) {}

  field(name: string, value: string): void {
    if (name === 'options') this.jsonOptions = parseOptionsField(value);
    else if (name === 'format') this.format = value;
    else if (this.fields.includes(name)) this.buffers[name] = decodeBase64Image(value, name);
    else addFormOption(this.fieldOptions, name, value);
  }

  result(): ParsedBody {
    for (const name of this.fields) {
      if (!this.buffers[name] && !this.optional.includes(name)) throw missingField(name, 'file in the multipart form: attach the image as a file field');
    }
    return { buffers: this.buffers, options: { ...this.jsonOptions, ...this.fieldOptions }, format: this.format };
  }
}

function openForm(req: IncomingMessage, limits: BodyLimits): busboy.Busboy {
  try {
    return busboy({
      headers: req.headers,
      limits: { fileSize: limits.maxFileSize, files: limits.fields.length, fieldSize: limits.maxBody, fields: 256 },
    });
  } catch (err) {
    throw new AppError('INVALID_REQUEST', 'The multipart Content-Type has no boundary.', { cause: err });
  }
}

function readMultipart(req: IncomingMessage, limits: BodyLimits): Promise<ParsedBody> {
  checkDeclaredLength(req, limits.maxBody);
  const form = openForm(req, limits);
  const collected = new FormCollector(limits.fields, limits.optional);
  return new Promise((resolve, reject) => {
    let settled = false;
    let size = 0;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      abandon(req);
      reject(err);
    };
    const guard = (work: () => void) => {
      try {
        work();
      } catch (err) {
        fail(err);
      }
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBody) fail(tooLarge(limits.maxBody));
    });
    form.on('file', (name, stream) => {
      if (!limits.fields.includes(name)) {
        stream.resume();
        fail(new AppError('INVALID_REQUEST', `Unexpected file field "${name}"; send the image as ${limits.fields.map((f) => `"${f}"`).join(', ')}.`, { details: { field: name } }));
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => fail(tooLarge(limits.maxFileSize)));
      stream.on('end', () => {
        collected.buffers[name] = Buffer.concat(chunks);
      });
    });
    form.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(tooLarge(limits.maxBody));
      else guard(() => collected.field(name, value));
    });
    req.once('close', () => {
      if (!req.complete) fail(unreadable());
    });
    form.on('filesLimit', () => fail(new AppError('INVALID_REQUEST', `Too many files; send at most ${limits.fields.length}.`)));
    form.on('error', (err) => fail(new AppError('INVALID_REQUEST', 'The multipart body is malformed or ended early.', { cause: err })));
    form.on('close', () => guard(() => {
      const result = collected.result();
      if (settled) return;
      settled = true;
      resolve(result);
    }));
    req.pipe(form);
  });
}

function queryOptions(req: IncomingMessage): { options: Record<string, unknown>; format?: string } {
  const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const options: Record<string, unknown> = {};
  let format: string | undefined;
  for (const [name, value] of params) {
    if (name === 'format') format = value;
    else addFormOption(options, name, value);
  }
  return { options, format };
}

/** A raw body is the first image field's; the rest must be optional. */
async function readRaw(req: IncomingMessage, limits: BodyLimits): Promise<ParsedBody> {
  const required = limits.fields.filter((f) => !limits.optional.includes(f)).length;
  if (required > 1) {
    throw new AppError('INVALID_REQUEST', `This endpoint takes ${required} images; send them as multipart form fields or JSON.`);
  }
  const buffer = await readBody(req, limits.maxFileSize);
  return { buffers: { [limits.fields[0]!]: buffer }, ...queryOptions(req) };
}

function parseFormat(value: unknown): ImageFormat | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const parsed = FormatSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new AppError('INVALID_REQUEST', `"format" must be one of ${IMAGE_FORMATS.join(', ')}.`, { details: { field: 'format' } });
}

function mediaType(req: IncomingMessage): string {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding "${encoding}" is not supported; send the body uncompressed.`);
  }
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function parseBody(req: IncomingMessage, type: string, limits: BodyLimits): Promise<ParsedBody> {
  if (type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type)) return readJson(req, limits);
  if (type === 'multipart/form-data') return readMultipart(req, limits);
  // image/gif etc. are read too, so the magic-byte check can name the real type in its 415
  if (RAW_TYPES.has(type) || type.startsWith('image/')) return readRaw(req, limits);
  throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Type "${type || '(none)'}" is not supported; send ${ACCEPTED_TYPES}.`);
}

async function validateField(name: string, buffer: Buffer, limits: ImageLimits, named: boolean): Promise<ValidatedImage> {
  try {
    return await validateImage(buffer, limits);
  } catch (err) {
    if (!named || !(err instanceof AppError)) throw err;
    const details = { ...(err.details as object | undefined), field: name };
    throw new AppError(err.code, `Field "${name}": ${err.message}`, { details, cause: err.cause, headers: err.headers });
  }
}

/**
 * Reads an image request straight from the stream (no global body parser): JSON with base64 or
 * data-URL fields, multipart/form-data, or a raw image body. Sizes are enforced while reading;
 * every image is validated (type, truncation, header dimensions) before it is returned.
 */
/** MAX_FILE_SIZE and MAX_IMAGE_PIXELS as intake limits. */
export function intakeLimits(config: Pick<Config, 'MAX_FILE_SIZE' | 'MAX_IMAGE_PIXELS'>): IntakeLimits {
  return { maxFileSize: config.MAX_FILE_SIZE, maxPixels: config.MAX_IMAGE_PIXELS };
}

export async function readImageRequest(req: IncomingMessage, limits: IntakeLimits): Promise<ImageRequest> {
  const fields = limits.imageFields ?? ['image'];
  const maxBody = Math.ceil((limits.maxFileSize * 4) / 3) * fields.length + FIELD_OVERHEAD;
  const body = await parseBody(req, mediaType(req), { fields, optional: limits.optionalFields ?? [], maxFileSize: limits.maxFileSize, maxBody });
  const format = parseFormat(body.format);
  const present = fields.filter((name) => body.buffers[name]);
  const entries = await Promise.all(
    present.map(async (name) => [name, await validateField(name, body.buffers[name]!, limits, fields.length > 1)] as const),
  );
  return { images: Object.fromEntries(entries), options: body.options, ...(format ? { format } : {}) };
}
