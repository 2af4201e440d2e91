import { AppError } from '../../errors.js';
import { resizeRaw, type RawImage } from '../../image/raw.js';
import { upscaleTiled, type TileModel } from '../../image/tiling.js';
import type { ModelRunner } from '../../models/runner.js';
import { runFloat, type RunStats } from '../model-run.js';
import { ADAIN, PRESET_CONTRACT, presetModelId, type StylePreset } from './models.js';

export interface NeuralContext {
  runner: ModelRunner;
  signal: AbortSignal;
  onTile: (done: number, total: number) => void;
}

export interface NeuralRun extends RunStats {
  image: RawImage;
  tiles: number;
}


/** CHW planes of w × h, edge-replicated out to pw × ph. */
function padPlanes(input: Float32Array, w: number, h: number, pw: number, ph: number): Float32Array {
  if (pw === w && ph === h) return input;
  const out = new Float32Array(3 * pw * ph);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < ph; y++) {
      const src = c * w * h + Math.min(y, h - 1) * w;
      const dst = c * pw * ph + y * pw;
      out.set(input.subarray(src, src + w), dst);
      out.fill(input[src + w - 1]!, dst + w, dst + pw);
    }
  }
  return out;
}

function cropPlanes(input: Float32Array, pw: number, ph: number, w: number, h: number): Float32Array {
  if (pw === w && ph === h) return input;
  const out = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) out.set(input.subarray(c * pw * ph + y * pw, c * pw * ph + y * pw + w), c * w * h + y * w);
  }
  return out;
}

/** A model that needs other sides than the tile's (a fixed 224², multiples of 8) sees the tile edge-padded, and its output is cropped back. */
function fitted(model: TileModel, sides: (w: number, h: number) => [number, number]): TileModel {
  return async (input, w, h) => {
    const [pw, ph] = sides(w, h);
    return cropPlanes(await model(padPlanes(input, w, h, pw, ph), pw, ph), pw, ph, w, h);
  };
}

const roundUp = (v: number, m: number) => Math.ceil(v / m) * m;


function checkDims(id: string, got: readonly number[], want: number[]): void {
  if (got.join() !== want.join()) throw new AppError('PROCESSING_ERROR', `Model ${id} returned [${got.join(',')}]; expected [${want.join(',')}]. Check that the model file matches the manifest.`);
}

/** A fast-neural-style preset over 224² tiles, 0..255 in and out; `strength` blends with the content in sRGB. */
export async function stylizePreset(content: RawImage, preset: StylePreset, ctx: NeuralContext): Promise<NeuralRun> {
  const id = presetModelId(preset);
  const { size, input, output } = PRESET_CONTRACT;
  const usage: RunStats = { device: undefined, inferenceMs: 0 };
  const model: TileModel = async (tile, w, h) => {
    const out = await runFloat(ctx.runner, id, { input, output }, tile.map((v) => v * 255), [1, 3, h, w], ctx.signal, usage);
    checkDims(id, out.dims, [1, 3, h, w]);
    return (out.data as Float32Array).map((v) => v / 255);
  };
  const result = await upscaleTiled(content, fitted(model, () => [size, size]), { scale: 1, tileSize: size, tilePad: 16, signal: ctx.signal, onTile: ctx.onTile });
  return { image: result, tiles: result.tiles, ...usage };
}

/** Per-channel mean and standard deviation of [C, N] features. */
interface FeatureStats {
  mean: Float32Array;
  std: Float32Array;
}

function featureStats(features: Float32Array, channels: number): FeatureStats {
  const n = features.length / channels;
  const mean = new Float32Array(channels);
  const std = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    let sq = 0;
    for (let i = c * n; i < (c + 1) * n; i++) {
      sum += features[i]!;
      sq += features[i]! ** 2;
    }
    const m = sum / n;
    mean[c] = m;
    // AdaIN's epsilon keeps flat channels from dividing by zero.
    std[c] = Math.sqrt(Math.max(0, sq / n - m * m) + 1e-5);
  }
  return { mean, std };
}

/** The RGB image resized so its longest side is at most `side` and both sides are multiples of 8. */
function encoderSized(image: RawImage, side: number): Promise<RawImage> {
  const k = Math.min(1, side / Math.max(image.width, image.height));
  return resizeRaw(image, roundUp(Math.max(1, Math.round(image.width * k)), ADAIN.stride), roundUp(Math.max(1, Math.round(image.height * k)), ADAIN.stride));
}

function planar(image: RawImage): Float32Array {
  const n = image.width * image.height;
  const out = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[c * n + p] = image.data[p * image.channels + c]! / 255;
  return out;
}

export interface AdainOptions {
  /** AdaIN's α: 1 is the style's feature statistics, 0 the content's own features. */
  strength: number;
  /** Longest side of the style image as the encoder sees it (the paper trains at 512). */
  styleSize: number;
  tileSize: number;
}

/**
 * Arbitrary style transfer with AdaIN, tiled: every tile's relu4_1 features are normalised with
 * the statistics of the whole content (from one encoder pass at tile size), not the tile's own,
 * so tiles agree at their seams; then given the style's statistics and decoded.
 */
export async function stylizeAdain(content: RawImage, style: RawImage, opts: AdainOptions, ctx: NeuralContext): Promise<NeuralRun> {
  const usage: RunStats = { device: undefined, inferenceMs: 0 };
  const { channels, stride } = ADAIN;
  const encode = async (data: Float32Array, w: number, h: number) => {
    const out = await runFloat(ctx.runner, ADAIN.encoder, { input: ADAIN.encoderInput, output: ADAIN.encoderOutput }, data, [1, 3, h, w], ctx.signal, usage);
    checkDims(ADAIN.encoder, out.dims, [1, channels, h / stride, w / stride]);
    return out.data as Float32Array;
  };
  const statsOf = async (image: RawImage, side: number) => {
    const sized = await encoderSized(image, side);
    return featureStats(await encode(planar(sized), sized.width, sized.height), channels);
  };
  const target = await statsOf(style, opts.styleSize);
  const source = await statsOf(content, opts.tileSize);
  const a = opts.strength;
  const model: TileModel = async (tile, w, h) => {
    const f = await encode(tile, w, h);
    const n = f.length / channels;
    for (let c = 0; c < channels; c++) {
      const gain = target.std[c]! / source.std[c]!;
      for (let i = c * n; i < (c + 1) * n; i++) {
        const v = f[i]!;
        f[i] = v + a * ((v - source.mean[c]!) * gain + target.mean[c]! - v);
      }
    }
    const out = await runFloat(ctx.runner, ADAIN.decoder, { input: ADAIN.decoderInput, output: ADAIN.decoderOutput }, f, [1, channels, h / stride, w / stride], ctx.signal, usage);
    checkDims(ADAIN.decoder, out.dims, [1, 3, h, w]);
    return out.data as Float32Array;
  };
  const result = await upscaleTiled(content, fitted(model, (w, h) => [roundUp(w, stride), roundUp(h, stride)]), { scale: 1, tileSize: opts.tileSize, tilePad: 32, signal: ctx.signal, onTile: ctx.onTile });
  return { image: result, tiles: result.tiles, ...usage };
}
