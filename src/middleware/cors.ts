import type { RequestHandler } from 'express';

const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Request-Id, X-API-Key, X-Admin-Key, X-Webhook-Url, Idempotency-Key, Prefer, Last-Event-ID';

/** CORS per CORS_ORIGINS ('*' or a list); preflights answered here with 204. */
export function cors(origins: '*' | string[]): RequestHandler {
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origins === '*') {
      res.setHeader('Access-Control-Allow-Origin', '*');
    } else if (origin && origins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.vary('Origin');
    }
    res.setHeader('Access-Control-Expose-Headers', 'X-Request-Id, Retry-After, X-Processing-Time, Location');
    if (req.method === 'OPTIONS' && req.get('access-control-request-method')) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
