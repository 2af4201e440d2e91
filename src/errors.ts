/**
 * The one error catalogue. Every error a client can see has a stable `code` and an HTTP status here;
 * anything thrown that is not an AppError becomes a bare 500 INTERNAL_ERROR (detail only in the log).
 */
export const ERROR_CATALOGUE = {
  // request shape
  INVALID_JSON: 400,
  INVALID_REQUEST: 400,
  INVALID_OPTIONS: 400,
  INVALID_IMAGE: 400,
  // auth
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  // routing
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  // size
  PAYLOAD_TOO_LARGE: 413,
  IMAGE_TOO_LARGE: 413,
  UNSUPPORTED_FORMAT: 415,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // valid image, but nothing to work on (e.g. no face in it)
  NO_FACE: 422,
  // limits
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  QUEUE_FULL: 429,
  // server side
  INTERNAL_ERROR: 500,
  PROCESSING_ERROR: 500,
  // a URL the server was asked to fetch failed (status, connection, too many redirects)
  URL_FETCH_FAILED: 502,
  MODEL_UNAVAILABLE: 503,
  OVERLOADED: 503,
  NOT_READY: 503,
  TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface AppErrorOptions {
  details?: unknown;
  cause?: unknown;
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
}

export class AppError extends Error {
  readonly status: number;
  readonly details?: unknown;
  readonly headers?: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    opts: AppErrorOptions = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.status = ERROR_CATALOGUE[code];
    this.details = opts.details;
    this.headers = opts.headers;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
