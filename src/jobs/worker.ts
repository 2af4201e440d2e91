import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ValidatedImage } from '../image/types.js';
import type { ModelRunner } from '../models/runner.js';
import { runTask } from '../tasks/fallback.js';
import { parseOptions } from '../tasks/options.js';
import type { TaskDefinition, TaskProgress, TaskResult } from '../tasks/types.js';
import type { JobFiles } from './files.js';
import type { JobRow } from './schema.js';
import { MIME_TYPES } from '../image/encode.js';

export interface TaskLookup {
  get(name: string): TaskDefinition;
  list(): readonly TaskDefinition[];
}

export interface WorkerDeps {
  tasks: TaskLookup;
  runner: ModelRunner;
  config: Config;
  logger: Logger;
  files: JobFiles;
}

type ImageMeta = Omit<ValidatedImage, 'buffer'>;
/** The row's record of its input images; the bytes are files (JobFiles.inputPath). */
export type InputMeta = ImageMeta & { extras?: Record<string, ImageMeta> };

export const imageMeta = (image: ValidatedImage): ImageMeta => ({ format: image.format, width: image.width, height: image.height, hasAlpha: image.hasAlpha });

export interface StoredResult {
  path: string;
  kind: 'image' | 'json';
  contentType: string;
  metadata: Record<string, unknown>;
}

/** Wraps the shared runner to note which models ran and where, for the job row. */
function recordingRunner(runner: ModelRunner): { runner: ModelRunner; used: () => { model: string | null; device: string | null } } {
  const models = new Set<string>();
  const devices = new Set<string>();
  return {
    runner: {
      ...(runner.available ? { available: (id: string) => runner.available!(id) } : {}),
      ...(runner.file ? { file: (id: string, name: string) => runner.file!(id, name) } : {}),
      async run(modelId, feeds, opts) {
        const result = await runner.run(modelId, feeds, opts);
        models.add(modelId);
        devices.add(result.device);
        return result;
      },
    },
    used: () => ({ model: models.size ? [...models].join(',') : null, device: devices.size ? [...devices].join(',') : null }),
  };
}

/** Runs one attempt of a job: reads its durable input, validates its options, calls the task. */
export async function runJobTask(
  job: JobRow,
  deps: WorkerDeps,
  signal: AbortSignal,
  onProgress: (p: TaskProgress) => void,
): Promise<{ result: TaskResult; used: { model: string | null; device: string | null } }> {
  const task = deps.tasks.get(job.operation);
  const options = parseOptions(task.options, JSON.parse(job.options) as unknown);
  const { extras = {}, ...meta } = JSON.parse(job.input_meta) as InputMeta;
  const image: ValidatedImage = { ...meta, buffer: await deps.files.read(deps.files.inputPath(job.id)) };
  const images = Object.fromEntries(await Promise.all(Object.entries(extras).map(async ([field, m]) =>
    [field, { ...m, buffer: await deps.files.read(deps.files.inputPath(job.id, field)) }] as const)));
  const recorder = recordingRunner(deps.runner);
  const { result } = await runTask(task, image, options, {
    runner: recorder.runner,
    config: deps.config,
    logger: deps.logger.child({ jobId: job.id, operation: job.operation }),
    signal,
    onProgress,
    owner: job.owner,
    images,
  });
  signal.throwIfAborted();
  return { result, used: recorder.used() };
}

/** Writes a task's result durably next to the input; JSON results keep their metadata beside the data. */
export async function storeResult(files: JobFiles, jobId: string, result: TaskResult): Promise<StoredResult> {
  if (result.kind === 'image') {
    const path = await files.writeResult(jobId, result.image);
    return { path, kind: 'image', contentType: MIME_TYPES[result.format], metadata: { format: result.format, ...result.metadata } };
  }
  const path = await files.writeResult(jobId, Buffer.from(JSON.stringify(result.data)));
  return { path, kind: 'json', contentType: 'application/json', metadata: result.metadata ?? {} };
}

/** Keeps the progress stream readable: a new stage, a step of at least 1 %, or the end. */
export function progressThrottle(record: (fraction: number, stage: string) => void): (p: TaskProgress) => void {
  let last = { fraction: -1, stage: '' };
  return (p) => {
    const fraction = Math.min(1, Math.max(0, Number.isFinite(p.fraction) ? p.fraction : 0));
    const step = fraction - last.fraction;
    if (p.stage === last.stage && step < 0.01 && !(fraction === 1 && step > 0)) return;
    last = { fraction, stage: p.stage };
    record(fraction, p.stage);
  };
}
