import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';
import type { ValidatedImage } from '../../image/types.js';
import { validateImage } from '../../image/validate.js';
import { coerceField, intakeLimits, readImageRequest } from '../../middleware/image-intake.js';
import type { ConcurrencyGate } from '../../middleware/overload.js';
import type { ModelRunner } from '../../models/runner.js';
import { fetchPublicUrl } from '../../net/fetch-url.js';
import { parseWith } from '../../schema.js';
import { removeBackgroundTask } from '../../tasks/remove-background.js';
import { parseOptions } from '../../tasks/options.js';
import { SEGMENTATION_MODEL_IDS, type SegmentationModelId } from '../../tasks/remove-background/models.js';
import { runGated } from '../tasks.js';

/**
 * rembg's HTTP API (`rembg s`): `POST /api/remove` with a multipart `file`, `GET /api/remove?url=`,
 * both answering the PNG. A thin adapter: it translates rembg's parameters into the
 * remove-background task's options and runs that task; no model code lives here.
 */

/** rembg session names with a model of ours behind them; ours are accepted by their own ids too. */
const REMBG_MODELS: Record<string, SegmentationModelId> = {
  u2net: 'u2net',
  u2netp: 'u2netp',
  'isnet-general-use': 'isnet-general-use',
  ...Object.fromEntries(SEGMENTATION_MODEL_IDS.map((id) => [id, id])),
};

const byte = z.number().int().min(0).max(255);

/** rembg's CommonQueryParams, with its defaults (model u2net, af 240, ab 10, ae 10). */
export const RembgParams = z.object({
  model: z.string().default('u2net').transform((name, ctx) => {
    const id = REMBG_MODELS[name];
    if (!id) ctx.addIssue({ code: 'custom', message: `model "${name}" is not available here; available: ${Object.keys(REMBG_MODELS).join(', ')}` });
    return id ?? 'isnet-general';
  }),
  a: z.boolean().default(false),
  af: byte.default(240),
  ab: byte.default(10),
  ae: z.number().int().min(0).default(10),
  om: z.boolean().default(false),
  ppm: z.boolean().default(false),
  bgc: z
    .string()
    .regex(/^\d{1,3},\d{1,3},\d{1,3},\d{1,3}$/, "expects 'r,g,b,a' with values 0-255, e.g. '255,255,255,255'")
    .transform((v) => v.split(',').map(Number))
    .pipe(z.tuple([byte, byte, byte, byte]))
    .optional(),
  /** rembg passes these to its session constructor; none of our models takes any. */
  extras: z.string().optional(),
});
type RembgParams = z.output<typeof RembgParams>;

export interface RembgDeps {
  config: Config;
  runner: ModelRunner;
  gate: ConcurrencyGate;
}

/** Form fields win over query parameters; both arrive as text and are coerced as the task routes do. */
function params(req: Request, fields: unknown): RembgParams {
  const query = Object.fromEntries(Object.entries(req.query).filter(([, v]) => typeof v === 'string').map(([k, v]) => [k, coerceField(v as string)]));
  const raw = { ...query, ...(fields as Record<string, unknown>) };
  delete raw.url;
  return parseWith(RembgParams, raw, { code: 'INVALID_OPTIONS', what: 'rembg parameters' });
}

async function removeAndSend(deps: RembgDeps, req: Request, res: Response, image: ValidatedImage, p: RembgParams): Promise<void> {
  const options = parseOptions(removeBackgroundTask.options, {
    model: p.model, returnMask: p.om, postProcessMask: p.ppm, outputFormat: 'png', ...(p.bgc ? { bgColor: p.bgc } : {}),
    ...(p.a ? { alphaMatting: { foregroundThreshold: p.af, backgroundThreshold: p.ab, erodeSize: p.ae } } : {}),
  });
  const result = await runGated(deps, req, res, removeBackgroundTask, { image, extras: {}, options });
  if (res.headersSent || result.kind !== 'image') return;
  res.status(200).type('image/png').end(result.image);
}

export function rembgRoutes(deps: RembgDeps): Router {
  const router = Router();
  router.post('/', async (req, res) => {
    const { images, options } = await readImageRequest(req, { ...intakeLimits(deps.config), imageFields: ['file'] });
    await removeAndSend(deps, req, res, images.file!, params(req, options));
  });
  router.get('/', async (req, res) => {
    const url = typeof req.query.url === 'string' ? req.query.url : undefined;
    if (!url) throw new AppError('INVALID_REQUEST', 'GET /api/remove needs ?url= naming the image to fetch (or POST the image as a multipart "file").');
    const p = params(req, {});
    const limits = intakeLimits(deps.config);
    const buffer = await fetchPublicUrl(url, { allowPrivate: deps.config.URL_FETCH_ALLOW_PRIVATE, field: 'url', allowVariable: 'URL_FETCH_ALLOW_PRIVATE' }, {
      maxBytes: limits.maxFileSize, timeoutMs: deps.config.URL_FETCH_TIMEOUT, maxRedirects: 5,
    });
    await removeAndSend(deps, req, res, await validateImage(buffer, limits), p);
  });
  return router;
}
