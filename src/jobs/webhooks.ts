import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from './clock.js';
import type { JobRow } from './schema.js';
import type { JobStore } from './store.js';
import { backoffDelay, type BackoffPolicy } from './retry.js';
import { jobView } from './view.js';
import { pinnedLookup } from '../net/public-target.js';
import { resolveWebhookTarget, type LookupAll, type WebhookTarget } from './webhook-target.js';

export const SIGNATURE_HEADER = 'X-FotoFun-Signature';
export const TIMESTAMP_HEADER = 'X-FotoFun-Timestamp';

/** `sha256=<hex>` of HMAC-SHA256(secret, `${timestamp}.${body}`); receivers recompute and compare. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface WebhookOptions {
  store: JobStore;
  clock: Clock;
  logger: Logger;
  secret: string | undefined;
  allowPrivate: boolean;
  lookup?: LookupAll;
  backoff: BackoffPolicy;
  maxAttempts: number;
  timeoutMs: number;
  onAttempt: (e: { jobId: string; attempt: number; outcome: 'delivered' | 'failed' | 'refused'; final: boolean }) => void;
}

type Outcome = { outcome: 'delivered' | 'failed'; status?: number; error?: string } | { outcome: 'refused'; error: string };

/**
 * Delivers `job.completed` / `job.failed` to the job's webhook URL, signed, retried with backoff.
 * Each attempt is a webhook_deliveries row; the pending state lives on the job row, so deliveries
 * interrupted by a restart resume.
 */
export class WebhookDispatcher {
  private readonly timers = new Map<string, TimerHandle>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly o: WebhookOptions) {}

  /** Called once a job with a webhook reached completed or failed (its webhook row is already pending). */
  enqueue(job: JobRow): void {
    if (!job.webhook_url || this.closed) return;
    this.schedule(job.id, 0);
  }

  /** Picks up deliveries left pending by a previous process. */
  resume(): void {
    for (const job of this.o.store.pendingWebhooks()) this.schedule(job.id, Math.max(0, (job.webhook_next_at ?? 0) - this.o.clock.now()));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) this.o.clock.clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(jobId: string, delayMs: number): void {
    const old = this.timers.get(jobId);
    if (old !== undefined) this.o.clock.clearTimeout(old);
    this.timers.delete(jobId);
    const fire = () => {
      this.timers.delete(jobId);
      const run = this.attempt(jobId).catch((err: unknown) => this.o.logger.error({ err, jobId }, 'webhook delivery crashed'));
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    };
    if (delayMs <= 0) fire();
    else this.timers.set(jobId, this.o.clock.setTimeout(fire, delayMs));
  }

  private async attempt(jobId: string): Promise<void> {
    const job = this.o.store.get(jobId);
    if (!job?.webhook_url || job.webhook_status !== 'pending' || this.closed) return;
    const attempt = job.webhook_attempts + 1;
    const event = job.status === 'completed' ? 'job.completed' : 'job.failed';
    const started = this.o.clock.now();
    const result = await this.deliver(job, event);
    const final = result.outcome !== 'failed' || attempt >= this.o.maxAttempts;
    this.o.store.recordDelivery({
      jobId, event, url: job.webhook_url, attempt, outcome: result.outcome, responseStatus: 'status' in result ? result.status : undefined,
      error: result.error, durationMs: Math.max(0, this.o.clock.now() - started),
    });
    const nextAt = this.o.clock.now() + backoffDelay(attempt, this.o.backoff);
    this.o.store.setWebhookState(jobId, {
      webhook_attempts: attempt,
      webhook_status: final ? (result.outcome === 'delivered' ? 'delivered' : 'failed') : 'pending',
      webhook_next_at: final ? null : nextAt,
    });
    this.o.logger[final && result.outcome !== 'delivered' ? 'warn' : 'debug']({ jobId, attempt, outcome: result.outcome, error: result.error }, 'webhook attempt');
    this.o.onAttempt({ jobId, attempt, outcome: result.outcome, final });
    if (!final && !this.closed) this.schedule(jobId, nextAt - this.o.clock.now());
  }

  private async deliver(job: JobRow, event: string): Promise<Outcome> {
    let target: WebhookTarget;
    try {
      target = await resolveWebhookTarget(job.webhook_url as string, { allowPrivate: this.o.allowPrivate, lookup: this.o.lookup });
    } catch (err) {
      return { outcome: 'refused', error: (err as Error).message };
    }
    const timestamp = Math.floor(this.o.clock.now() / 1000);
    const body = JSON.stringify({ event, timestamp, job: jobView(job) });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'fotofun-ai-service-webhook',
      'x-fotofun-event': event,
      [TIMESTAMP_HEADER]: String(timestamp),
    };
    if (this.o.secret) headers[SIGNATURE_HEADER] = signWebhook(this.o.secret, timestamp, body);
    try {
      const status = await postPinned(target, headers, body, this.o.timeoutMs);
      return status >= 200 && status < 300 ? { outcome: 'delivered', status } : { outcome: 'failed', status, error: `HTTP ${status}` };
    } catch (err) {
      return { outcome: 'failed', error: (err as Error).message };
    }
  }
}

/** POSTs to the URL while connecting only to the address that was checked (no second DNS answer). */
function postPinned(target: WebhookTarget, headers: Record<string, string>, body: string, timeoutMs: number): Promise<number> {
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(target.url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: pinnedLookup(target),
      timeout: timeoutMs,
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
