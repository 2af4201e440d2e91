import cliProgress from 'cli-progress';
import type { Logger } from 'pino';

/**
 * One progress report from the model store. `key` names what is being fetched: a package spec
 * (one tarball can serve several models) or a model id; `total` is absent when unknown.
 */
export interface ProgressEvent {
  key: string;
  phase: 'download' | 'convert' | 'verify' | 'done' | 'failed';
  received: number;
  total?: number;
}

export type ProgressListener = (e: ProgressEvent) => void;

export interface ProgressReporter {
  onProgress: ProgressListener;
  stop(): void;
}

const MiB = 1024 * 1024;
const mib = (n: number) => (n / MiB).toFixed(1);

/** A line every `intervalMs` per key, plus one when a key finishes: for logs and non-TTY output. */
export function logProgress(logger: Logger, intervalMs = 5000, now: () => number = Date.now): ProgressReporter {
  const last = new Map<string, number>();
  const onProgress: ProgressListener = (e) => {
    const fields = { key: e.key, phase: e.phase, receivedMiB: Number(mib(e.received)), totalMiB: e.total === undefined ? undefined : Number(mib(e.total)) };
    if (e.phase === 'done' || e.phase === 'failed') {
      last.delete(e.key);
      logger.info(fields, `model fetch ${e.phase}: ${e.key}`);
      return;
    }
    const t = now();
    const prev = last.get(e.key);
    if (prev !== undefined && t - prev < intervalMs) return;
    last.set(e.key, t);
    const pct = e.total ? ` (${Math.min(100, Math.round((100 * e.received) / e.total))}%)` : '';
    logger.info(fields, `model fetch ${e.phase}: ${e.key} ${mib(e.received)} MiB${e.total ? ` of ${mib(e.total)} MiB` : ''}${pct}`);
  };
  return { onProgress, stop: () => last.clear() };
}

/** One cli-progress bar per key on an interactive terminal. */
export function barProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      format: ' {bar} {percentage}% | {received}/{totalMiB} MiB | {phase} {key}',
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  const onProgress: ProgressListener = (e) => {
    const total = Math.max(e.total ?? e.received, 1);
    const payload = { key: e.key, phase: e.phase, received: mib(e.received), totalMiB: e.total ? mib(e.total) : '?' };
    let bar = bars.get(e.key);
    if (!bar) {
      bar = multi.create(total, 0, payload);
      bars.set(e.key, bar);
    }
    bar.setTotal(total);
    bar.update(e.phase === 'done' ? total : e.received, payload);
  };
  return { onProgress, stop: () => multi.stop() };
}

/** Bars on a TTY, periodic log lines otherwise. */
export function progressReporter(logger: Logger, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  return stream.isTTY ? barProgress(stream) : logProgress(logger);
}
