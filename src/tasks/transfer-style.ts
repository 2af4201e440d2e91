import { z } from 'zod';
import { AppError } from '../errors.js';
import { decodeRaw } from '../image/decode.js';
import { encodeImage } from '../image/encode.js';
import { resizeRaw, sharpFromRaw, type RawImage } from '../image/raw.js';
import { IMAGE_FORMATS, type ValidatedImage } from '../image/types.js';
import type { TaskContext, TaskDefinition, TaskResult } from './types.js';
import { yieldToLoop } from './event-loop.js';
import { transferColour } from './transfer-style/colour-transfer.js';
import { ADAIN, STYLE_PRESETS, presetModelId } from './transfer-style/models.js';
import { stylizePreset, stylizeAdain, type NeuralRun } from './transfer-style/neural.js';

/**
 * Example: multipart `content` + `style` files → the content in the style's colours (method
 * "color"); `options.method: "neural"` repaints it with AdaIN; `image` + `options.preset: "mosaic"`
 * runs one of the model zoo's fast-neural-style networks and needs no style image.
 */
export const TransferStyleOptions = z
  .strictObject({
    method: z.enum(['color', 'neural']).optional().describe("'color' (default): the style image's colour and tone, no model; 'neural': AdaIN arbitrary style transfer (operator-supplied adain-vgg-encoder and adain-decoder)."),
    preset: z.enum(STYLE_PRESETS).optional().describe('A fast-neural-style model (fast-neural-style-<preset>, operator-supplied) instead of a style image; excludes method.'),
    strength: z.number().min(0).max(1).default(1).describe('0 keeps the content, 1 is the full style; in between, color moves the statistics part way, neural sets AdaIN’s α, a preset blends with the content.'),
    histogram: z.boolean().default(false).describe("color only: match the style's whole chroma histograms (Oklab a and b); lightness still moves by mean and spread."),
    maxSide: z.number().int().min(64).max(4096).default(1024).describe('neural and preset: the longest side they paint at (the result is resized back to the content’s size); brush strokes are sized in these pixels.'),
    styleSize: z.number().int().min(64).max(1024).default(512).describe('neural: the longest side of the style image as the encoder sees it.'),
    tileSize: z.number().int().min(256).max(2048).default(512).describe('neural: tile side in painted pixels; presets always use their 224² tiles.'),
    outputFormat: z.enum(IMAGE_FORMATS).default('png').describe('png, webp or jpeg (jpeg has no alpha: transparency becomes white).'),
  })
  .superRefine((o, ctx) => {
    if (o.preset && o.method) ctx.addIssue({ code: 'custom', path: ['method'], message: 'a preset runs its own model: send preset or method, not both' });
    if (o.histogram && (o.preset || o.method === 'neural')) ctx.addIssue({ code: 'custom', path: ['histogram'], message: 'histogram matching is part of method color only' });
  });
export type TransferStyleOptions = z.output<typeof TransferStyleOptions>;

type Method = 'color' | 'neural' | 'preset';
const methodOf = (o: TransferStyleOptions): Method => (o.preset ? 'preset' : (o.method ?? 'color'));

function styleModels(o: TransferStyleOptions): string[] {
  const method = methodOf(o);
  if (method === 'preset') return [presetModelId(o.preset!)];
  return method === 'neural' ? [ADAIN.encoder, ADAIN.decoder] : [];
}

function styleImage(method: Method, ctx: TaskContext): ValidatedImage | undefined {
  const style = ctx.images?.style;
  if (method === 'preset' && style) throw new AppError('INVALID_REQUEST', 'A preset brings its own style: send no "style" image with options.preset.', { details: { field: 'style' } });
  if (method !== 'preset' && !style) throw new AppError('INVALID_REQUEST', `Method ${method} needs a style image: send it as "style" (or use options.preset).`, { details: { field: 'style' } });
  return style;
}

const rgbOnly = async (image: RawImage): Promise<RawImage> => (image.channels === 3 ? image : { data: await sharpFromRaw(image).removeAlpha().raw().toBuffer(), width: image.width, height: image.height, channels: 3 });

/** The neural result at the content's size, blended with it by `mix` (1 = all result), its alpha kept. */
async function backToContent(content: RawImage, painted: RawImage, mix: number): Promise<RawImage> {
  const full = await resizeRaw(painted, content.width, content.height);
  if (mix === 1 && content.channels === 3) return full;
  const out = Buffer.from(content.data);
  const ch = content.channels;
  const n = content.width * content.height;
  // In slices, yielding between them: a 12-megapixel blend is ~36 M steps.
  for (let start = 0; start < n; start += 1 << 18) {
    for (let p = start; p < Math.min(n, start + (1 << 18)); p++) {
      for (let c = 0; c < 3; c++) out[p * ch + c] = Math.round(content.data[p * ch + c]! + mix * (full.data[p * 3 + c]! - content.data[p * ch + c]!));
    }
    await yieldToLoop();
  }
  return { ...content, data: out };
}

async function paint(method: 'neural' | 'preset', content: RawImage, style: RawImage | undefined, o: TransferStyleOptions, ctx: TaskContext): Promise<NeuralRun> {
  const k = Math.min(1, o.maxSide / Math.max(content.width, content.height));
  const work = await rgbOnly(await resizeRaw(content, Math.max(1, Math.round(content.width * k)), Math.max(1, Math.round(content.height * k))));
  const neural = {
    runner: ctx.runner,
    signal: ctx.signal,
    onTile: (done: number, total: number) => ctx.onProgress({ fraction: 0.1 + (0.8 * done) / total, stage: `tile ${done}/${total}` }),
  };
  if (method === 'preset') return stylizePreset(work, o.preset!, neural);
  return stylizeAdain(work, style!, { strength: o.strength, styleSize: o.styleSize, tileSize: o.tileSize }, neural);
}

async function transferStyle(image: ValidatedImage, o: TransferStyleOptions, ctx: TaskContext): Promise<TaskResult> {
  const method = methodOf(o);
  const styleInput = styleImage(method, ctx);
  ctx.onProgress({ fraction: 0, stage: 'decode' });
  const content = await decodeRaw(image);
  const style = styleInput ? await decodeRaw(styleInput, { channels: 3 }) : undefined;
  ctx.signal.throwIfAborted();
  let result: RawImage;
  let metadata: Record<string, unknown>;
  if (method === 'color') {
    ctx.onProgress({ fraction: 0.1, stage: 'colour transfer' });
    result = await transferColour(content, style!, { strength: o.strength, histogram: o.histogram, signal: ctx.signal });
    metadata = { method, model: null, device: 'cpu', histogram: o.histogram };
  } else {
    const run = await paint(method, content, style, o, ctx);
    // AdaIN's α already mixed in feature space; a preset's strength mixes pixels.
    result = await backToContent(content, run.image, method === 'preset' ? o.strength : 1);
    metadata = { method, model: styleModels(o).join(','), device: run.device, tiles: run.tiles, paintedSize: { width: run.image.width, height: run.image.height }, inferenceMs: Math.round(run.inferenceMs * 10) / 10 };
  }
  ctx.onProgress({ fraction: 0.9, stage: 'encode' });
  const encoded = await encodeImage(result, o.outputFormat);
  ctx.onProgress({ fraction: 1, stage: 'done' });
  return { kind: 'image', image: encoded, format: o.outputFormat, metadata: { ...metadata, strength: o.strength, width: result.width, height: result.height } };
}

export const transferStyleTask: TaskDefinition<typeof TransferStyleOptions> = {
  name: 'transfer-style',
  route: 'transformers/transfer-style',
  shortRoute: 'transfer-style',
  description: "Restyles the content image: the style image's colours and tone (color), its painting style (neural, AdaIN), or a fast-neural-style preset.",
  options: TransferStyleOptions,
  models: styleModels,
  run: transferStyle,
  images: { main: ['content', 'image'], extra: ['style'] },
};
