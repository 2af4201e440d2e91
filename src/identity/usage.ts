import type { RequestHandler, Response } from 'express';
import type { Db } from '../db/database.js';
import { AppError } from '../errors.js';

/** What a metered request used; routes fill it in as they learn it (res.locals.usage). */
export interface UsageNote {
  operation?: string;
  inputPixels?: number;
  outputPixels?: number;
  inferenceMs?: number;
}

export interface UsageRow {
  owner?: string;
  day: string;
  operation: string;
  requests: number;
  errors: number;
  inputPixels: number;
  outputPixels: number;
  inferenceMs: number;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const COLUMNS = `day, operation, requests, errors, input_pixels AS inputPixels, output_pixels AS outputPixels, ROUND(inference_ms, 1) AS inferenceMs`;

/** Per owner, per operation, per UTC day counters, upserted once per request. */
export class UsageStore {
  constructor(private readonly db: Db, private readonly now: () => number = Date.now) {}

  record(owner: string, note: Required<UsageNote>, failed: boolean): void {
    this.db.prepare(`
      INSERT INTO usage_daily (owner, day, operation, requests, errors, input_pixels, output_pixels, inference_ms)
      VALUES (?, ?, ?, 1, ?, ?, ?, ?)
      ON CONFLICT (owner, day, operation) DO UPDATE SET
        requests = requests + 1, errors = errors + excluded.errors, input_pixels = input_pixels + excluded.input_pixels,
        output_pixels = output_pixels + excluded.output_pixels, inference_ms = inference_ms + excluded.inference_ms`)
      .run(owner, day(this.now()), note.operation, failed ? 1 : 0, note.inputPixels, note.outputPixels, note.inferenceMs);
  }

  requestsToday(owner: string): number {
    return (this.db.prepare('SELECT COALESCE(SUM(requests), 0) FROM usage_daily WHERE owner = ? AND day = ?').pluck().get(owner, day(this.now())) as number);
  }

  forOwner(owner: string, range: { from: string; to: string }): UsageRow[] {
    return this.db.prepare(`SELECT ${COLUMNS} FROM usage_daily WHERE owner = ? AND day BETWEEN ? AND ? ORDER BY day, operation`).all(owner, range.from, range.to) as UsageRow[];
  }

  all(range: { from: string; to: string; owner?: string }): UsageRow[] {
    const where = range.owner ? 'AND owner = ?' : '';
    const args = range.owner ? [range.from, range.to, range.owner] : [range.from, range.to];
    return this.db.prepare(`SELECT owner, ${COLUMNS} FROM usage_daily WHERE day BETWEEN ? AND ? ${where} ORDER BY day, owner, operation`).all(...args) as UsageRow[];
  }

  today(): string {
    return day(this.now());
  }
}

export const usageNote = (res: Response): UsageNote => (res.locals.usage ??= {}) as UsageNote;

/** A metered request's operation and input pixels (every image it sent). */
export function noteInput(res: Response, operation: string, images: readonly { width: number; height: number }[]): UsageNote {
  const usage = usageNote(res);
  usage.operation = operation;
  usage.inputPixels = images.reduce((sum, i) => sum + i.width * i.height, 0);
  return usage;
}

/**
 * Meters work requests (POST to inference and job routes): refuses one over the owner's daily
 * quota with 429 QUOTA_EXCEEDED, and records each when its response has gone out.
 */
export function meterUsage(store: UsageStore, quotaOf: (res: Response) => number | null, isMetered: (method: string, path: string) => boolean): RequestHandler {
  return (req, res, next) => {
    const owner = String(res.locals.owner ?? 'anonymous');
    // A compatibility router runs this inside its own mount: the full path is baseUrl + path.
    const path = `${req.baseUrl}${req.path}`;
    if (!isMetered(req.method, path) || owner === 'anonymous') return next();
    const quota = quotaOf(res);
    if (quota !== null && store.requestsToday(owner) >= quota) {
      const midnight = new Date(store.today()).getTime() + 86_400_000;
      next(new AppError('QUOTA_EXCEEDED', `The daily quota of ${quota} requests is used up; it resets at 00:00 UTC.`, {
        details: { quota },
        headers: { 'Retry-After': String(Math.max(1, Math.ceil((midnight - Date.now()) / 1000))) },
      }));
      return;
    }
    res.once('finish', () => {
      const note = usageNote(res);
      store.record(owner, {
        operation: note.operation ?? path,
        inputPixels: note.inputPixels ?? 0,
        outputPixels: note.outputPixels ?? 0,
        inferenceMs: note.inferenceMs ?? 0,
      }, res.statusCode >= 400);
    });
    next();
  };
}
