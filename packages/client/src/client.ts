import { withDefaults, type AIServiceConfig, type AIServiceConfigInput } from './config.js';
import { AIServiceError } from './errors.js';
import type { OperationOptions, TaskName } from './generated/options.js';
import { errorFrom, jsonBody, Transport, type RequestOptions } from './http.js';
import { base64Of, fromBase64, toBlob, validateImageInput, type ImageInput, type ImageValidation } from './image.js';
import { JobsClient } from './jobs.js';

export interface ImageResult {
  image: Blob;
  format: string;
  /** What the service says of the run (model, device, timings, …); empty for the short routes. */
  metadata: Record<string, unknown>;
  /** Server-side milliseconds, where the answer says. */
  processingTime?: number;
  /** `requested -> served` when the asked model had no weights and the family default ran (X-Model-Fallback). */
  fallback?: string;
}

export interface Detection {
  label: string;
  classId: number;
  score: number;
  box: { x: number; y: number; width: number; height: number };
}

export interface HealthStatus {
  status: string;
  version?: string;
  uptime?: number;
  device?: string;
  models?: unknown[];
  [key: string]: unknown;
}

export interface ModelInfo {
  id: string;
  task?: string;
  family?: string;
  downloaded?: boolean;
  state?: string;
  [key: string]: unknown;
}

export interface Subject {
  id: string;
  name: string;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

type Json = Record<string, unknown>;

interface ImageEnvelope {
  image: string;
  format: string;
  metadata?: Json;
}

/**
 * The FotoFun AI Service over HTTP. Every method takes the image as a Blob or File, bytes, or
 * base64, and an optional `RequestOptions` (signal, timeout) last; failures are AIServiceError.
 *
 * ```ts
 * const ai = new AIServiceClient(loadAIServiceConfig());
 * const { image } = await ai.removeBackground(file, { model: 'rmbg-1.4' });
 * ```
 */
export class AIServiceClient {
  readonly config: AIServiceConfig;
  readonly jobs: JobsClient;
  private readonly http: Transport;
  private healthTimer: ReturnType<typeof setInterval> | undefined;
  private lastHealthy: boolean | undefined;

  constructor(config: AIServiceConfigInput) {
    this.config = withDefaults(config);
    this.http = new Transport(this.config);
    this.jobs = new JobsClient(this.http);
  }

  // ── health ────────────────────────────────────────────────────────────

  async checkHealth(opts?: RequestOptions): Promise<HealthStatus> {
    const res = await this.http.fetch('/health', { method: 'GET' }, opts);
    if (!res.ok) throw await errorFrom(res);
    const health = (await res.json()) as HealthStatus;
    this.lastHealthy = health.status === 'ok';
    return health;
  }

  /** The last periodic check's answer while startHealthCheck runs; otherwise a check now. */
  async isHealthy(opts?: RequestOptions): Promise<boolean> {
    if (this.healthTimer && this.lastHealthy !== undefined) return this.lastHealthy;
    try {
      return (await this.checkHealth(opts)).status === 'ok';
    } catch {
      this.lastHealthy = false;
      return false;
    }
  }

  /** Checks /health every `intervalMs` (and now), calling `onChange` with the first answer and whenever healthiness flips. */
  startHealthCheck(intervalMs = 30_000, onChange?: (healthy: boolean) => void): void {
    this.stopHealthCheck();
    this.lastHealthy = undefined;
    const tick = async () => {
      const before = this.lastHealthy;
      const healthy = await this.checkHealth({ timeout: Math.min(this.config.timeout, intervalMs) }).then((h) => h.status === 'ok', () => false);
      this.lastHealthy = healthy;
      if (healthy !== before) onChange?.(healthy);
    };
    this.healthTimer = setInterval(() => void tick(), intervalMs);
    void tick();
  }

  stopHealthCheck(): void {
    clearInterval(this.healthTimer);
    this.healthTimer = undefined;
  }

  // ── images ────────────────────────────────────────────────────────────

  /** Checks an image the way the service will (type by bytes, size, dimensions), before uploading it. */
  validateImage(image: ImageInput): Promise<ImageValidation> {
    return validateImageInput(image, this.config);
  }

  /** Seed 000's call: JSON to /api/v1/transformers/remove-background; the cut-out as PNG (or WebP). */
  removeBackground(image: ImageInput, options: OperationOptions['remove-background'] = {}, opts?: RequestOptions): Promise<ImageResult> {
    return this.imageTask('transformers/remove-background', image, options, {}, opts);
  }

  upscaleImage(image: ImageInput, scale: OperationOptions['upscale']['scale'] | OperationOptions['upscale'] = 2, opts?: RequestOptions): Promise<ImageResult> {
    return this.imageTask('realesrgan/upscale', image, typeof scale === 'object' ? scale : { scale }, {}, opts);
  }

  /** Seed 001's call: multipart to /v1/detect-objects, the bare Detection[] back. */
  async detectObjects(image: ImageInput, options: OperationOptions['detect-objects'] = {}, opts?: RequestOptions): Promise<Detection[]> {
    const res = await this.short('detect-objects', { image }, options, opts);
    return (await res.json()) as Detection[];
  }

  /** Seed 001's call: multipart to /v1/estimate-depth, the depth map as an image. */
  async estimateDepth(image: ImageInput, options: OperationOptions['estimate-depth'] = {}, opts?: RequestOptions): Promise<ImageResult> {
    return imageFrom(await this.short('estimate-depth', { image }, options, opts));
  }

  /** Seed 001's call: multipart `content` + `style` to /v1/transfer-style. Pass `style` null with options.preset. */
  async transferStyle(content: ImageInput, style: ImageInput | null, options: OperationOptions['transfer-style'] = {}, opts?: RequestOptions): Promise<ImageResult> {
    return imageFrom(await this.short('transfer-style', { content, ...(style ? { style } : {}) }, options, opts));
  }

  /** Smart erase: `mask` (white = erase) and/or options.boxes / options.strokes. */
  inpaint(image: ImageInput, mask: ImageInput | null, options: OperationOptions['inpaint'] = {}, opts?: RequestOptions): Promise<ImageResult> {
    return this.imageTask('lama/inpaint', image, options, mask ? { mask } : {}, opts);
  }

  enhanceFace(image: ImageInput, options: OperationOptions['enhance-face'] = {}, opts?: RequestOptions): Promise<ImageResult> {
    return this.imageTask('gfpgan/enhance-face', image, options, {}, opts);
  }

  beautyFilter(image: ImageInput, options: OperationOptions['beauty-filter'] = {}, opts?: RequestOptions): Promise<ImageResult> {
    return this.imageTask('gfpgan/beauty-filter', image, options, {}, opts);
  }

  // ── JSON results ──────────────────────────────────────────────────────

  recognizeText(image: ImageInput, options: OperationOptions['ocr'] = {}, opts?: RequestOptions): Promise<Json> {
    return this.jsonTask('ocr/recognize', { image }, options, opts);
  }

  detectFaces(image: ImageInput, options: OperationOptions['face-detect'] = {}, opts?: RequestOptions): Promise<Json> {
    return this.jsonTask('face/detect', { image }, options, opts);
  }

  analyzeFaces(image: ImageInput, options: OperationOptions['face-analyze'] = {}, opts?: RequestOptions): Promise<Json> {
    return this.jsonTask('face/analyze', { image }, options, opts);
  }

  /** Whether the largest faces of two images are one person: `{ similarity, match, threshold, source, target }`. */
  verifyFaces(source: ImageInput, target: ImageInput, options: OperationOptions['face-verify'] = {}, opts?: RequestOptions): Promise<Json> {
    return this.jsonTask('face/verify', { source, target }, options, opts);
  }

  readonly gallery = {
    createSubject: async (name: string, metadata?: Json, opts?: RequestOptions): Promise<Subject> =>
      (await this.http.json<{ subject: Subject }>('/api/v1/face/subjects', jsonBody({ name, ...(metadata ? { metadata } : {}) }), opts)).result.subject,
    listSubjects: async (page: { limit?: number; offset?: number } = {}, opts?: RequestOptions): Promise<Json> =>
      (await this.http.json<Json>(`/api/v1/face/subjects?${new URLSearchParams(Object.entries(page).map(([k, v]) => [k, String(v)]))}`, { method: 'GET' }, opts)).result,
    getSubject: async (id: string, opts?: RequestOptions): Promise<Subject> =>
      (await this.http.json<{ subject: Subject }>(`/api/v1/face/subjects/${encodeURIComponent(id)}`, { method: 'GET' }, opts)).result.subject,
    deleteSubject: async (id: string, opts?: RequestOptions): Promise<void> => {
      await this.http.json(`/api/v1/face/subjects/${encodeURIComponent(id)}`, { method: 'DELETE' }, opts);
    },
    /** Enrols the image's largest face under the subject. */
    addFace: async (subjectId: string, image: ImageInput, options: OperationOptions['face-enrol'] = {}, opts?: RequestOptions): Promise<Json> =>
      (await this.http.json<{ face: Json }>(`/api/v1/face/subjects/${encodeURIComponent(subjectId)}/faces`, jsonBody({ image: await base64Of(image), options }), opts)).result.face,
    deleteFace: async (subjectId: string, faceId: string, opts?: RequestOptions): Promise<void> => {
      await this.http.json(`/api/v1/face/subjects/${encodeURIComponent(subjectId)}/faces/${encodeURIComponent(faceId)}`, { method: 'DELETE' }, opts);
    },
    /** Every face in the image with its best gallery matches. */
    recognize: (image: ImageInput, options: OperationOptions['face-recognize'] = {}, opts?: RequestOptions): Promise<Json> =>
      this.jsonTask('face/recognize', { image }, options, opts),
  };

  // ── models ────────────────────────────────────────────────────────────

  async getSupportedModels(opts?: RequestOptions): Promise<ModelInfo[]> {
    return (await this.http.json<{ models: ModelInfo[] }>('/api/v1/models', { method: 'GET' }, opts)).result.models;
  }

  async getModelInfo(id: string, opts?: RequestOptions): Promise<ModelInfo> {
    return (await this.http.json<ModelInfo>(`/api/v1/models/${encodeURIComponent(id)}`, { method: 'GET' }, opts)).result;
  }

  /** The scheduler's view of memory: zones, budgets, what is loaded where. */
  async getVram(opts?: RequestOptions): Promise<Json> {
    return (await this.http.json<Json>('/api/v1/vram', { method: 'GET' }, opts)).result;
  }

  // ── plumbing ──────────────────────────────────────────────────────────

  private async imageTask(route: string, image: ImageInput, options: object, extras: Record<string, ImageInput>, opts?: RequestOptions): Promise<ImageResult> {
    const body: Json = { image: await base64Of(image), options };
    for (const [field, extra] of Object.entries(extras)) body[field] = await base64Of(extra);
    const { result, processingTime, response } = await this.http.json<ImageEnvelope>(`/api/v1/${route}`, jsonBody(body), opts);
    const fallback = response.headers.get('x-model-fallback');
    const bytes = fromBase64(result.image);
    return {
      image: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: `image/${result.format}` }),
      format: result.format,
      metadata: result.metadata ?? {},
      ...(processingTime !== undefined ? { processingTime } : {}),
      ...(fallback ? { fallback } : {}),
    };
  }

  private async jsonTask(route: string, images: Record<string, ImageInput>, options: object, opts?: RequestOptions): Promise<Json> {
    const body: Json = { options };
    for (const [field, image] of Object.entries(images)) body[field] = await base64Of(image);
    return (await this.http.json<Json>(`/api/v1/${route}`, jsonBody(body), opts)).result;
  }

  /** Multipart to a short route: the images as files, the options as a JSON field. */
  private async short(route: string, images: Record<string, ImageInput>, options: object, opts?: RequestOptions): Promise<Response> {
    const form = new FormData();
    for (const [field, image] of Object.entries(images)) form.set(field, await toBlob(image), field);
    if (Object.keys(options).length > 0) form.set('options', JSON.stringify(options));
    const res = await this.http.fetch(`/v1/${route}`, { method: 'POST', body: form }, opts);
    if (!res.ok) throw await errorFrom(res);
    return res;
  }
}

async function imageFrom(res: Response): Promise<ImageResult> {
  const type = res.headers.get('content-type') ?? 'application/octet-stream';
  if (!type.startsWith('image/')) throw new AIServiceError('INVALID_RESPONSE', `Expected an image, got ${type}.`, { status: res.status });
  const fallback = res.headers.get('x-model-fallback');
  return { image: await res.blob(), format: type.slice('image/'.length).split(';')[0]!, metadata: {}, ...(fallback ? { fallback } : {}) };
}

export type { TaskName };
