import type { RequestHandler } from 'express';
import { AppError } from '../errors.js';

/**
 * One AbortSignal per request (res.locals.signal), aborted when the client goes away or after
 * REQUEST_TIMEOUT. Tasks check it between steps; a timed-out request is answered 504 at once.
 */
export function deadline(timeoutMs: number): RequestHandler {
  return (req, res, next) => {
    const controller = new AbortController();
    res.locals.signal = controller.signal;
    const timer = setTimeout(() => {
      const err = new AppError('TIMEOUT', `The request took longer than REQUEST_TIMEOUT (${timeoutMs} ms); submit it as an async job instead (Prefer: respond-async).`);
      controller.abort(err);
      if (!res.headersSent) next(err);
    }, timeoutMs);
    timer.unref();
    res.once('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
    });
    next();
  };
}
