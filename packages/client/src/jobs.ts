import { AIServiceError } from './errors.js';
import type { OperationOptions, TaskName } from './generated/options.js';
import { errorFrom, jsonBody, type RequestOptions, type Transport } from './http.js';
import { base64Of, type ImageInput } from './image.js';
import { readEvents } from './sse.js';

export type JobStatus = 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled';

export interface Job {
  id: string;
  operation: string;
  status: JobStatus;
  progress: number;
  stage: string | null;
  attempts: number;
  error: { code: string; message: string } | null;
  result: { kind: 'image' | 'json'; contentType: string; metadata: unknown; expired: boolean } | null;
  links: { self: string; result: string; events: string };
  [key: string]: unknown;
}

export interface JobEvent {
  /** The SSE id: resume after it with `lastEventId`. */
  id: number;
  type: 'status' | 'progress' | 'done' | 'failed';
  data: Record<string, unknown>;
}

export interface SubmitOptions extends RequestOptions {
  /** Further images by field (`style`, `mask`). */
  images?: Record<string, ImageInput>;
  /** The same key for a retried submit returns the same job. */
  idempotencyKey?: string;
  webhookUrl?: string;
}

const TERMINAL: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
const isFinal = (e: JobEvent) => e.type === 'done' || e.type === 'failed' || (e.type === 'status' && e.data.to === 'cancelled');

/** Durable async jobs: submit, follow over SSE (resuming where a dropped stream stopped), fetch the result. */
export class JobsClient {
  constructor(private readonly http: Transport) {}

  async submit<T extends TaskName>(operation: T, image: ImageInput, options: OperationOptions[T] = {} as OperationOptions[T], opts: SubmitOptions = {}): Promise<Job> {
    const body: Record<string, unknown> = { operation, image: await base64Of(image), options };
    for (const [field, extra] of Object.entries(opts.images ?? {})) body[field] = await base64Of(extra);
    if (opts.webhookUrl) body.webhookUrl = opts.webhookUrl;
    const headers = { ...opts.headers, ...(opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {}) };
    const accepted = (await this.http.json<{ jobId: string }>('/api/v1/jobs', jsonBody(body), { ...opts, headers })).result;
    return this.get(accepted.jobId, opts);
  }

  async get(id: string, opts?: RequestOptions): Promise<Job> {
    return (await this.http.json<Job>(`/api/v1/jobs/${encodeURIComponent(id)}`, { method: 'GET' }, opts)).result;
  }

  async list(query: { status?: JobStatus; limit?: number; cursor?: string } = {}, opts?: RequestOptions): Promise<{ jobs: Job[]; nextCursor?: string | null }> {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    return (await this.http.json<{ jobs: Job[]; nextCursor?: string | null }>(`/api/v1/jobs?${qs}`, { method: 'GET' }, opts)).result;
  }

  /** Cancels a pending or running job; the job as it is now. */
  async cancel(id: string, opts?: RequestOptions): Promise<Job> {
    return (await this.http.json<Job>(`/api/v1/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' }, opts)).result;
  }

  /** A completed job's result: the image as a Blob, or the JSON data it produced. */
  async result(id: string, opts?: RequestOptions): Promise<Blob | unknown> {
    const res = await this.http.fetch(`/api/v1/jobs/${encodeURIComponent(id)}/result`, { method: 'GET' }, opts);
    if (!res.ok) throw await errorFrom(res);
    if ((res.headers.get('content-type') ?? '').startsWith('image/')) return res.blob();
    const body = (await res.json()) as { result?: { data?: unknown } };
    return body.result?.data;
  }

  /**
   * The job's events as they happen: stored ones first, then live ones, until it ends. A dropped
   * stream is reopened with Last-Event-ID, so no event is lost or repeated.
   */
  async *events(id: string, opts: RequestOptions & { lastEventId?: number; reconnectMs?: number } = {}): AsyncGenerator<JobEvent> {
    let last = opts.lastEventId;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.http.fetch(`/api/v1/jobs/${encodeURIComponent(id)}/events`, { method: 'GET', headers: { accept: 'text/event-stream', ...(last !== undefined ? { 'last-event-id': String(last) } : {}) } }, { ...opts, timeout: 2 ** 31 - 1 });
      } catch (err) {
        if (opts.signal?.aborted || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, opts.reconnectMs ?? 1000));
        continue;
      }
      if (!res.ok || !res.body) throw await errorFrom(res);
      let ended = false;
      try {
        for await (const sse of readEvents(res.body)) {
          if (sse.id === undefined) continue;
          const event: JobEvent = { id: Number(sse.id), type: sse.event as JobEvent['type'], data: JSON.parse(sse.data) as Record<string, unknown> };
          last = event.id;
          attempt = 0;
          yield event;
          if (isFinal(event)) ended = true;
        }
      } catch (err) {
        if (opts.signal?.aborted) throw new AIServiceError('ABORTED', 'The event stream was cancelled.', { cause: err });
      }
      if (ended) return;
      // The stream closed before the job ended (a proxy, a restart): ask whether it ended meanwhile.
      const job = await this.get(id, opts);
      if (TERMINAL.includes(job.status) && last !== undefined) {
        yield* this.events(id, { ...opts, lastEventId: last });
        return;
      }
    }
  }

  /** Waits for the job to end (over its event stream) and returns it; `onProgress` sees each step. */
  async wait(id: string, opts: RequestOptions & { onProgress?: (progress: number, stage: string) => void } = {}): Promise<Job> {
    for await (const e of this.events(id, opts)) {
      if (e.type === 'progress') opts.onProgress?.(Number(e.data.progress), String(e.data.stage));
    }
    return this.get(id, opts);
  }
}
