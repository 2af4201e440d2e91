import { parentPort, type Worker } from 'node:worker_threads';
import { spawnWorker } from './spawn.js';

/** An error the job itself threw, reported by its worker (which is still sound). */
export class JobError extends Error {}

/** What a job worker posts for job `id`: progress any number of times, then one result or one error. */
type Reply<R, P> = { id: number; progress: P } | { id: number; result: R } | { id: number; error: string };

export interface LaneRunOptions<P> {
  /** Terminates the job's worker: CPU-bound work cannot check a signal itself. */
  signal?: AbortSignal;
  onProgress?: (progress: P) => void;
  transfer?: ArrayBuffer[];
}

export interface WorkerLanesOptions {
  /** Names the work in errors. */
  label: string;
  /** Jobs that run at once; more wait their turn. */
  size: number;
  /** A worker idle this long exits (0: right after its job), so idle lanes hold no memory. */
  idleMs: number;
}

interface Lane {
  worker: Worker;
  idle?: NodeJS.Timeout;
}

/**
 * Long pure-JS work (exemplar inpainting, model conversion) in worker threads, so the event loop
 * keeps serving. Workers are kept between jobs for `idleMs`: under tsx (`npm start`, tests) a new
 * worker costs ≈ 300 ms of loader start-up, more than a small inpainting job itself (measured).
 */
export class WorkerLanes<J, R, P = never> {
  private readonly free: Lane[] = [];
  private running = 0;
  private readonly queue: (() => void)[] = [];
  private nextId = 0;

  constructor(private readonly entry: URL, private readonly opts: WorkerLanesOptions) {}

  async run(job: J, opts: LaneRunOptions<P> = {}): Promise<R> {
    opts.signal?.throwIfAborted();
    await this.turn(opts.signal);
    const lane = this.free.pop() ?? this.spawn();
    clearTimeout(lane.idle);
    lane.worker.ref();
    try {
      const result = await this.send(lane, job, opts);
      this.park(lane);
      return result;
    } catch (err) {
      // The job threw inside a healthy worker: keep the worker.
      if (err instanceof JobError) this.park(lane);
      throw err;
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }

  /** A new lane; a worker that dies while parked leaves the free list (and its error is not unhandled). */
  private spawn(): Lane {
    const lane: Lane = { worker: spawnWorker(this.entry, undefined) };
    const drop = () => {
      const at = this.free.indexOf(lane);
      if (at >= 0) this.free.splice(at, 1);
      clearTimeout(lane.idle);
    };
    lane.worker.on('error', drop).on('exit', drop);
    return lane;
  }

  /** Terminates every idle worker; running jobs finish first. */
  async close(): Promise<void> {
    await Promise.all(this.free.splice(0).map((l) => l.worker.terminate()));
  }

  private async turn(signal?: AbortSignal): Promise<void> {
    while (this.running >= this.opts.size) {
      await new Promise<void>((resolve, reject) => {
        const go = () => { signal?.removeEventListener('abort', stop); resolve(); };
        const stop = () => { this.queue.splice(this.queue.indexOf(go), 1); reject(signal!.reason); };
        this.queue.push(go);
        signal?.addEventListener('abort', stop, { once: true });
      });
    }
    this.running++;
  }

  private park(lane: Lane): void {
    if (this.opts.idleMs === 0) {
      void lane.worker.terminate();
      return;
    }
    lane.worker.unref();
    lane.idle = setTimeout(() => void lane.worker.terminate(), this.opts.idleMs);
    lane.idle.unref();
    this.free.push(lane);
  }

  /** One job on a lane; a worker that dies or is aborted is terminated, never parked. */
  private send(lane: Lane, job: J, opts: LaneRunOptions<P>): Promise<R> {
    const id = this.nextId++;
    const { worker } = lane;
    return new Promise<R>((resolve, reject) => {
      const done = (err?: unknown) => {
        worker.off('message', onMessage).off('error', done).off('exit', onExit);
        opts.signal?.removeEventListener('abort', onAbort);
        if (err !== undefined) {
          void worker.terminate();
          reject(err);
        }
      };
      const onMessage = (msg: Reply<R, P>) => {
        if (msg.id !== id) return;
        if ('progress' in msg) return opts.onProgress?.(msg.progress);
        done();
        if ('result' in msg) resolve(msg.result);
        else reject(new JobError(msg.error));
      };
      const onExit = (code: number) => done(new Error(`the ${this.opts.label} worker exited with code ${code} before answering`));
      const onAbort = () => done(opts.signal!.reason);
      worker.on('message', onMessage).once('error', done).once('exit', onExit);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        worker.postMessage({ id, job }, opts.transfer ?? []);
      } catch (err) {
        done(err);
      }
    });
  }
}

/** The worker side: answers each job with `work`'s result (transferring whole buffers) or its error. */
export function serveJobs<J, R, P = never>(work: (job: J, progress: (p: P) => void) => Promise<R> | R, transferOf: (r: R) => ArrayBuffer[] = () => []): void {
  const port = parentPort!;
  port.on('message', async ({ id, job }: { id: number; job: J }) => {
    try {
      const result = await work(job, (progress) => port.postMessage({ id, progress }));
      port.postMessage({ id, result }, transferOf(result));
    } catch (err) {
      port.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
    }
  });
}

/** The buffer behind a view, when the view covers all of it (only then can it be transferred). */
export function wholeBuffer(view: ArrayBufferView): ArrayBuffer[] {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? [view.buffer as ArrayBuffer] : [];
}
