import { baseUrl, type AIServiceConfig } from './config.js';
import { AIServiceError } from './errors.js';

export interface RequestOptions {
  /** Cancels the request (and any retry wait). */
  signal?: AbortSignal;
  /** Overrides the configured timeout for this call, in ms. */
  timeout?: number;
  headers?: Record<string, string>;
}

interface Envelope {
  success?: boolean;
  result?: unknown;
  error?: { code?: string; message?: string; details?: Record<string, unknown> };
  processingTime?: number;
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const timer = setTimeout(() => { signal?.removeEventListener('abort', stop); resolve(); }, ms);
  const stop = () => { clearTimeout(timer); reject(signal!.reason); };
  signal?.addEventListener('abort', stop, { once: true });
});

/** Seconds from a Retry-After header (delta-seconds or an HTTP date). */
function retryAfterSeconds(value: string | null): number | undefined {
  if (!value) return undefined;
  const n = Number(value);
  if (Number.isFinite(n)) return Math.max(0, n);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

/** The error an answer carries (the service's envelope when there is one). */
export async function errorFrom(res: Response): Promise<AIServiceError> {
  const retryAfter = retryAfterSeconds(res.headers.get('retry-after'));
  let body: Envelope | undefined;
  try {
    body = (await res.json()) as Envelope;
  } catch {
    body = undefined;
  }
  const code = body?.error?.code ?? (res.status === 404 ? 'NOT_FOUND' : `HTTP_${res.status}`);
  const message = body?.error?.message ?? `The AI service answered ${res.status} ${res.statusText}.`;
  return new AIServiceError(code, message, { status: res.status, ...(body?.error?.details ? { details: body.error.details } : {}), ...(retryAfter !== undefined ? { retryAfter } : {}) });
}

/**
 * Requests with the client's rules: the service root prepended, the key as a Bearer token, a
 * timeout, the caller's abort signal, and bounded retries of 429 and 503 answers (the service
 * refused before doing any work, so a retry is safe) that wait as Retry-After says.
 */
export class Transport {
  constructor(private readonly config: AIServiceConfig) {}

  url(path: string): string {
    return `${baseUrl(this.config.endpoint)}${path}`;
  }

  async fetch(path: string, init: RequestInit, opts: RequestOptions = {}): Promise<Response> {
    const retries = this.config.retries ?? 2;
    for (let attempt = 0; ; attempt++) {
      const res = await this.once(path, init, opts);
      if ((res.status !== 429 && res.status !== 503) || attempt >= retries) return res;
      const after = retryAfterSeconds(res.headers.get('retry-after'));
      const wait = Math.min(this.config.maxRetryDelay ?? 30_000, after !== undefined ? after * 1000 : 500 * 2 ** attempt);
      await res.body?.cancel();
      await sleep(wait, opts.signal);
    }
  }

  private async once(path: string, init: RequestInit, opts: RequestOptions): Promise<Response> {
    const timeout = opts.timeout ?? this.config.timeout;
    const timer = AbortSignal.timeout(timeout);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timer]) : timer;
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers.set(k, v);
    if (this.config.apiKey && !headers.has('authorization')) headers.set('authorization', `Bearer ${this.config.apiKey}`);
    try {
      return await (this.config.fetch ?? fetch)(this.url(path), { ...init, headers, signal });
    } catch (err) {
      if (opts.signal?.aborted) throw new AIServiceError('ABORTED', 'The request was cancelled.', { cause: opts.signal.reason });
      if (timer.aborted) throw new AIServiceError('TIMEOUT', `No answer from the AI service within ${timeout} ms.`, { cause: err });
      throw new AIServiceError('NETWORK_ERROR', `The AI service at ${baseUrl(this.config.endpoint)} cannot be reached: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  /** A JSON answer's `result` (the service's envelope), or its error. */
  async json<T>(path: string, init: RequestInit, opts: RequestOptions = {}): Promise<{ result: T; processingTime?: number; response: Response }> {
    const res = await this.fetch(path, init, opts);
    if (!res.ok) throw await errorFrom(res);
    let body: Envelope;
    try {
      body = (await res.json()) as Envelope;
    } catch (err) {
      throw new AIServiceError('INVALID_RESPONSE', `The AI service answered ${path} with something that is not JSON.`, { status: res.status, cause: err });
    }
    return { result: body.result as T, ...(body.processingTime !== undefined ? { processingTime: body.processingTime } : {}), response: res };
  }
}

export const jsonBody = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
