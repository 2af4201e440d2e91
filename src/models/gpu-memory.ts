import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `nvidia-smi <args> --format=csv,noheader,nounits -i <index>`'s output; rejects when it is absent or fails. */
export function nvidiaSmi(args: string[], index = 0): Promise<string> {
  return run('nvidia-smi', [...args, '--format=csv,noheader,nounits', '-i', String(index)], { timeout: 5000 }).then((r) => r.stdout);
}

/** GPU memory in use, MB: this process's own where the driver tells it, else the whole device's. */
export interface GpuMemoryReading {
  mb: number;
  scope: 'process' | 'device';
}

export type GpuMemoryReader = () => Promise<GpuMemoryReading | undefined>;

/**
 * This process's line of `nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits`.
 * Inside a container with its own PID namespace the driver lists host PIDs (or `[N/A]`), so our pid
 * is missing: undefined then, and the caller falls back to the device-wide figure.
 */
export function parseComputeApps(stdout: string, pid: number): number | undefined {
  let total: number | undefined;
  for (const line of stdout.split('\n')) {
    const [p, used] = line.split(',').map((v) => v.trim());
    if (Number(p) !== pid) continue;
    const mb = Number(used);
    if (Number.isFinite(mb)) total = (total ?? 0) + mb;
  }
  return total;
}

/** The first line of `--query-gpu=memory.used` (or `memory.total`) in nvidia-smi's bare CSV, MB. */
export function parseMemoryUsed(stdout: string): number | undefined {
  const mb = Number(stdout.trim().split('\n')[0]);
  return stdout.trim() !== '' && Number.isFinite(mb) && mb >= 0 ? mb : undefined;
}

/** Reads GPU `index` through nvidia-smi; undefined when nvidia-smi is absent or says nothing usable. */
export function nvidiaSmiMemoryReader(index: number, pid = process.pid): GpuMemoryReader {
  return async () => {
    try {
      const own = parseComputeApps(await nvidiaSmi(['--query-compute-apps=pid,used_memory'], index), pid);
      if (own !== undefined) return { mb: own, scope: 'process' };
      const device = parseMemoryUsed(await nvidiaSmi(['--query-gpu=memory.used'], index));
      return device === undefined ? undefined : { mb: device, scope: 'device' };
    } catch {
      return undefined;
    }
  };
}

export interface FootprintLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** A session freed less than this share of its measured size on release: reported as a leak. */
export const RELEASE_FREED_SHARE = 0.5;

/**
 * Measures each GPU session as the difference in GPU memory around its creation, and checks that
 * releasing it gives the memory back. Loads and releases are serialised, so a delta belongs to one
 * session (a run growing its arena at the same moment still skews it: the promotion margin covers
 * that). `prime` runs once before the first measurement: the CUDA context the first session
 * creates is the process's, not that model's.
 */
export class GpuFootprints {
  private chain: Promise<unknown> = Promise.resolve();
  /** Measured size by session label, until the session is released. */
  private readonly sizes = new Map<string, number>();
  private primed: Promise<void> | undefined;

  constructor(
    private readonly read: GpuMemoryReader,
    private readonly logger: FootprintLogger,
    private readonly prime: () => Promise<void> = async () => undefined,
  ) {}

  /** Runs `load` alone and returns its measured size, or undefined when no reading was had. */
  measureLoad(label: string, load: () => Promise<unknown>): Promise<number | undefined> {
    return this.serial(async () => {
      await (this.primed ??= this.prime().catch((err: unknown) => {
        this.logger.warn({ err }, 'GPU context warm-up failed: the first GPU footprint includes the CUDA context');
      }));
      const before = await this.read();
      await load();
      const after = await this.read();
      if (!before || !after) return undefined;
      const mb = Math.max(0, after.mb - before.mb);
      this.sizes.set(label, mb);
      this.logger.info({ session: label, gpuMB: mb, scope: after.scope }, `${label} takes ${mb} MB of GPU memory (${after.scope}-wide reading)`);
      return mb;
    });
  }

  /** Runs `release` alone; warns when the GPU got back less than half of what the session measured. */
  checkRelease(label: string, release: () => Promise<void>): Promise<void> {
    const measuredMB = this.sizes.get(label);
    this.sizes.delete(label);
    return this.serial(async () => {
      const before = measuredMB ? await this.read() : undefined;
      await release();
      if (!before || !measuredMB) return;
      const after = await this.read();
      if (!after) return;
      const freed = before.mb - after.mb;
      if (freed < measuredMB * RELEASE_FREED_SHARE) {
        this.logger.warn({ session: label, freedMB: freed, measuredMB }, `released ${label}, but GPU memory fell by only ${freed} MB of its ${measuredMB} MB`);
      }
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.catch(() => undefined).then(fn);
    this.chain = next;
    return next;
  }
}
