/** An answer from the service that is not a success, or a request that could not be made. */
export class AIServiceError extends Error {
  override readonly name = 'AIServiceError';
  /** The service's stable code (`INVALID_IMAGE`, `RATE_LIMITED`, …), or `TIMEOUT`, `ABORTED`, `NETWORK_ERROR`, `INVALID_RESPONSE`. */
  readonly code: string;
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  /** Seconds to wait before retrying, from `Retry-After`. */
  readonly retryAfter: number | undefined;

  constructor(code: string, message: string, opts: { status?: number; details?: Record<string, unknown>; retryAfter?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.status = opts.status ?? 0;
    this.details = opts.details;
    this.retryAfter = opts.retryAfter;
  }
}

/** No service URL was configured (NEXT_PUBLIC_AI_SERVICE_URL or `endpoint`). */
export class AIServiceNotConfiguredError extends Error {
  override readonly name = 'AIServiceNotConfiguredError';
  constructor(message = 'The AI service is not configured: set NEXT_PUBLIC_AI_SERVICE_URL (e.g. http://localhost:8080) or pass { endpoint }.') {
    super(message);
  }
}
