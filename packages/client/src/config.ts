import { AIServiceNotConfiguredError } from './errors.js';

export const DEFAULT_SUPPORTED_FORMATS = ['image/jpeg', 'image/png', 'image/webp'] as const;

export interface AIServiceConfig {
  /** The service's base URL: `http://host:8080` or, as the FotoFun app writes it, `http://host:8080/v1`. */
  endpoint: string;
  /** Sent as `Authorization: Bearer …` (an API key `ffk_…`, the service key, or an access token). */
  apiKey?: string;
  /** Per-request limit in ms (default 30 000). */
  timeout: number;
  /** Largest upload in bytes validateImage accepts (default 10 MiB, the service's default). */
  maxFileSize: number;
  /** MIME types validateImage accepts. */
  supportedFormats: readonly string[];
  /** Retries of a 429 or 503 answer, honouring Retry-After (default 2). */
  retries?: number;
  /** Longest wait between retries in ms (default 30 000). */
  maxRetryDelay?: number;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

export type AIServiceConfigInput = Partial<AIServiceConfig> & { endpoint: string };

export function withDefaults(input: AIServiceConfigInput): AIServiceConfig {
  if (!input.endpoint) throw new AIServiceNotConfiguredError();
  return { timeout: 30_000, maxFileSize: 10 * 1024 * 1024, supportedFormats: DEFAULT_SUPPORTED_FORMATS, retries: 2, maxRetryDelay: 30_000, ...input };
}

/** The service root, whichever URL style the app uses: trailing slashes and a final `/v1` dropped. */
export function baseUrl(endpoint: string): string {
  return endpoint.replace(/\/+$/, '').replace(/\/v1$/, '');
}

const positive = (raw: string | undefined, name: string): number | undefined => {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new AIServiceNotConfiguredError(`${name} must be a positive number, got "${raw}".`);
  return n;
};

/**
 * The configuration from the FotoFun app's variables: NEXT_PUBLIC_AI_SERVICE_URL (required),
 * NEXT_PUBLIC_AI_SERVICE_KEY, NEXT_PUBLIC_AI_SERVICE_TIMEOUT (ms), NEXT_PUBLIC_AI_MAX_FILE_SIZE
 * (bytes). `env` defaults to process.env where there is one.
 */
export function loadAIServiceConfig(env: Record<string, string | undefined> = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {}): AIServiceConfig {
  const endpoint = env.NEXT_PUBLIC_AI_SERVICE_URL?.trim();
  if (!endpoint) throw new AIServiceNotConfiguredError();
  const timeout = positive(env.NEXT_PUBLIC_AI_SERVICE_TIMEOUT, 'NEXT_PUBLIC_AI_SERVICE_TIMEOUT');
  const maxFileSize = positive(env.NEXT_PUBLIC_AI_MAX_FILE_SIZE, 'NEXT_PUBLIC_AI_MAX_FILE_SIZE');
  const apiKey = env.NEXT_PUBLIC_AI_SERVICE_KEY?.trim();
  return withDefaults({ endpoint, ...(apiKey ? { apiKey } : {}), ...(timeout ? { timeout } : {}), ...(maxFileSize ? { maxFileSize } : {}) });
}
