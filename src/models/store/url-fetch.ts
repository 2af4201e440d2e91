import fs from 'node:fs';
import { DownloadTimeoutError } from './errors.js';
import { Watchdog } from './watchdog.js';

export interface UrlFetchOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  onBytes?: (received: number, total?: number) => void;
  /** Attempts in all; a retry happens only after an attempt that received bytes. */
  attempts?: number;
}

export class HttpStatusError extends Error {
  constructor(readonly status: number, url: string) {
    super(`${url} answered HTTP ${status}`);
    this.name = 'HttpStatusError';
  }
}

/**
 * Downloads `url` into `partial`, resuming what an earlier attempt (or process) left there with a
 * Range request. Redirects are followed. The caller verifies the finished file and renames it.
 */
export async function downloadResumable(url: string, partial: string, opts: UrlFetchOptions): Promise<void> {
  const attempts = opts.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const before = await sizeOf(partial);
    try {
      await downloadOnce(url, partial, before, opts);
      return;
    } catch (err) {
      const progressed = (await sizeOf(partial)) > before;
      const retriable = progressed && !(err instanceof DownloadTimeoutError) && !opts.signal?.aborted;
      if (!retriable || attempt >= attempts) throw err;
    }
  }
}

async function sizeOf(file: string): Promise<number> {
  return fs.promises.stat(file).then((s) => s.size, () => 0);
}

async function downloadOnce(url: string, partial: string, offset: number, opts: UrlFetchOptions): Promise<void> {
  const watchdog = new Watchdog(url, opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([watchdog.signal, opts.signal]) : watchdog.signal;
  try {
    const res = await fetch(url, { redirect: 'follow', signal, headers: offset > 0 ? { range: `bytes=${offset}-` } : {} });
    if (res.status === 416 && offset > 0) {
      // The partial file already holds every byte (an attempt died between the last byte and the rename).
      await res.body?.cancel();
      return;
    }
    if (res.status !== 200 && res.status !== 206) throw new HttpStatusError(res.status, url);
    const resumed = res.status === 206;
    const start = resumed ? rangeStart(res, url, offset) : 0;
    const length = Number(res.headers.get('content-length') ?? NaN);
    const total = Number.isFinite(length) ? start + length : undefined;
    await writeBody(res, partial, start, resumed, (n) => {
      watchdog.poke();
      opts.onBytes?.(n, total);
    });
  } catch (err) {
    throw signal.aborted && signal.reason instanceof Error ? signal.reason : explain(err, url);
  } finally {
    watchdog.stop();
  }
}

/** undici reports every network failure as "fetch failed"; the reason is in its cause. */
function explain(err: unknown, url: string): unknown {
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (!cause) return err;
  return new Error(`cannot reach ${new URL(url).host}: ${cause.code ?? cause.message}`, { cause: err });
}

/** A server that answers a different range than asked for would splice the file wrongly. */
function rangeStart(res: Response, url: string, offset: number): number {
  const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
  if (!m || Number(m[1]) !== offset) {
    throw new Error(`${url} answered a resumed download with range "${res.headers.get('content-range')}", expected bytes ${offset}-`);
  }
  return offset;
}

async function writeBody(res: Response, partial: string, start: number, append: boolean, onBytes: (received: number) => void): Promise<void> {
  const file = await fs.promises.open(partial, append ? 'a' : 'w');
  let received = start;
  try {
    if (!res.body) return;
    for await (const chunk of res.body) {
      await file.write(chunk);
      received += chunk.length;
      onBytes(received);
    }
  } finally {
    await file.close();
  }
}
