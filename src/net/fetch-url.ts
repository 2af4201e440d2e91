import http from 'node:http';
import https from 'node:https';
import { AppError } from '../errors.js';
import { pinnedLookup, resolvePublicTarget, type PublicTarget, type TargetRules } from './public-target.js';

export interface FetchLimits {
  maxBytes: number;
  /** The whole fetch, redirects included. */
  timeoutMs: number;
  maxRedirects: number;
}

type Hop = { kind: 'body'; body: Buffer } | { kind: 'redirect'; location: string };

function failed(url: URL, reason: string): AppError {
  return new AppError('URL_FETCH_FAILED', `Fetching ${url.origin}${url.pathname} failed: ${reason}.`, { details: { reason } });
}

/** One GET, connecting only to the checked address; the body is capped while it streams in. */
function getPinned(target: PublicTarget, limits: FetchLimits, signal: AbortSignal): Promise<Hop> {
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(target.url, { lookup: pinnedLookup(target), signal, headers: { 'user-agent': 'fotofun-ai-service' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        return resolve({ kind: 'redirect', location: res.headers.location });
      }
      if (status < 200 || status >= 300) {
        res.resume();
        return reject(failed(target.url, `HTTP ${status}`));
      }
      const tooLarge = () => new AppError('PAYLOAD_TOO_LARGE', `The image at the URL is larger than ${limits.maxBytes} bytes (MAX_FILE_SIZE).`, { details: { maxBytes: limits.maxBytes } });
      if (Number(res.headers['content-length'] ?? 0) > limits.maxBytes) {
        res.destroy();
        return reject(tooLarge());
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limits.maxBytes) res.destroy(tooLarge());
        else chunks.push(c);
      });
      res.on('end', () => resolve({ kind: 'body', body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(err instanceof AppError ? err : failed(target.url, err.message)));
  });
}

/**
 * Fetches an image a client named by URL. Every hop's host is resolved and checked like a
 * webhook's (no loopback, private or link-local targets unless allowed) and connected to at the
 * checked address; at most `maxRedirects` redirects, `maxBytes` of body and `timeoutMs` in all.
 */
export async function fetchPublicUrl(raw: string, rules: TargetRules, limits: FetchLimits): Promise<Buffer> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let next = raw;
  for (let hop = 0; hop <= limits.maxRedirects; hop++) {
    const target = await resolvePublicTarget(next, rules);
    const result = await getPinned(target, limits, signal).catch((err: unknown) => {
      if (signal.aborted) throw new AppError('TIMEOUT', `The URL did not deliver the image within ${limits.timeoutMs} ms.`, { cause: err });
      throw err;
    });
    if (result.kind === 'body') return result.body;
    next = new URL(result.location, target.url).toString();
  }
  throw failed(new URL(raw), `more than ${limits.maxRedirects} redirects`);
}
