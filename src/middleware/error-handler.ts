import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { AppError, isAppError } from '../errors.js';

/** Milliseconds since the request started (set by the request-context middleware). */
export function elapsedMs(res: Response): number {
  const start = res.locals.startedAt as bigint | undefined;
  if (start === undefined) return 0;
  return Math.round(Number(process.hrtime.bigint() - start) / 1e5) / 10;
}

export function sendSuccess(res: Response, result: unknown, status = 200): void {
  res.status(status).json({ success: true, result, processingTime: elapsedMs(res) });
}

export function sendError(res: Response, err: AppError): void {
  if (err.headers) res.set(err.headers);
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.details !== undefined) error.details = err.details;
  res.status(err.status).json({ success: false, error, processingTime: elapsedMs(res) });
}

/** Body-parser and other library errors that carry a status and a type. */
function fromLibraryError(err: unknown): AppError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { type?: string; status?: number; limit?: number };
  if (e.type === 'entity.parse.failed') return new AppError('INVALID_JSON', 'The request body is not valid JSON.');
  if (e.type === 'entity.too.large') {
    return new AppError('PAYLOAD_TOO_LARGE', `The request body is larger than the limit of ${e.limit} bytes.`, {
      details: { limitBytes: e.limit },
    });
  }
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    return new AppError('UNSUPPORTED_MEDIA_TYPE', 'The request body encoding is not supported.');
  }
  return undefined;
}

/**
 * Renders known errors in the envelope; anything else is a bare 500 whose detail goes to the log
 * only (never a stack trace to the client).
 */
export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const known = isAppError(err) ? err : fromLibraryError(err);
  if (res.headersSent) {
    req.log?.warn({ err }, 'error after the response started');
    res.destroy();
    return;
  }
  if (known) {
    // 503/504s (not ready, overloaded, timeout) are states the request line already records.
    if (known.status === 500) req.log?.error({ err: known, cause: known.cause }, known.message);
    sendError(res, known);
    return;
  }
  req.log?.error({ err }, 'unhandled error');
  sendError(res, new AppError('INTERNAL_ERROR', 'Internal server error.'));
};

export const notFound: RequestHandler = (req, _res, next) => {
  next(new AppError('NOT_FOUND', `No route for ${req.method} ${req.path}.`));
};
