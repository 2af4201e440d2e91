import type { ValidatedImage } from '../image/types.js';
import type { TaskContext, TaskDefinition, TaskResult } from './types.js';

/** A request's model that could not be served and the family default that was (MODEL_FALLBACK). */
export interface ModelFallback {
  requested: string;
  served: string;
}

/** The response header that says a fallback happened: `X-Model-Fallback: rmbg-1.4 -> isnet-general`. */
export const FALLBACK_HEADER = 'X-Model-Fallback';
export const fallbackHeaderValue = (f: ModelFallback) => `${f.requested} -> ${f.served}`;

/**
 * The options to run with: as asked, unless a model they need has no weights on disk (requests
 * never fetch them) and the family default's models all do; then the default is served instead.
 * Nothing changes under MODEL_FALLBACK=strict, or when the runner cannot tell what is present.
 */
export function chooseModel(task: TaskDefinition, options: unknown, ctx: TaskContext): { options: unknown; fallback?: ModelFallback } {
  const choice = task.modelChoice;
  const available = ctx.runner.available?.bind(ctx.runner);
  if (!choice || !available || ctx.config.MODEL_FALLBACK === 'strict') return { options };
  if (task.models(options).every(available)) return { options };
  // Every task's options are a zod object.
  const fields = options as Record<string, unknown>;
  const requested = String(fields[choice.option] ?? choice.fallback(ctx.config));
  const served = choice.fallback(ctx.config);
  const replaced = { ...fields, [choice.option]: served };
  if (served === requested || !task.models(replaced).every(available)) return { options };
  return { options: replaced, fallback: { requested, served } };
}

/**
 * Runs a task the way every route and job does: with the model chosen by chooseModel, and a
 * fallback recorded in the result's metadata (`model` is what ran, `requestedModel` what was asked).
 */
export async function runTask(task: TaskDefinition, image: ValidatedImage, options: unknown, ctx: TaskContext): Promise<{ result: TaskResult; fallback?: ModelFallback }> {
  const { options: chosen, fallback } = chooseModel(task, options, ctx);
  if (!fallback) return { result: await task.run(image, chosen, ctx) };
  ctx.logger.warn({ requested: fallback.requested, served: fallback.served, operation: task.name },
    `model ${fallback.requested} has no weights here: served ${fallback.served} instead (MODEL_FALLBACK=strict answers 503; \`npm run models -- pull ${fallback.requested}\` fetches it where its source is reachable)`);
  const result = await task.run(image, chosen, ctx);
  const metadata = { ...result.metadata, model: fallback.served, requestedModel: fallback.requested };
  return { result: { ...result, metadata }, fallback };
}
