import { z } from 'zod';

/**
 * The parts of a TF.js graph model (`model.json`, format `graph-model`) the importer reads:
 * the GraphDef nodes, the signature, and the weights manifest that says where each constant's
 * bytes are in the shards.
 */

const AttrValue = z
  .object({
    s: z.string().optional(),
    i: z.union([z.string(), z.number()]).optional(),
    f: z.number().optional(),
    b: z.boolean().optional(),
    type: z.string().optional(),
    shape: z.unknown().optional(),
    tensor: z.unknown().optional(),
    list: z
      .object({
        s: z.array(z.string()).optional(),
        i: z.array(z.union([z.string(), z.number()])).optional(),
        f: z.array(z.number()).optional(),
      })
      .optional(),
  })
  .loose();
export type AttrValue = z.infer<typeof AttrValue>;

const NodeDef = z.object({
  name: z.string().min(1),
  op: z.string().min(1),
  input: z.array(z.string()).default([]),
  attr: z.record(z.string(), AttrValue).default({}),
});
export type NodeDef = z.infer<typeof NodeDef>;

const Quantization = z.object({
  dtype: z.enum(['float16', 'uint8', 'uint16']),
  min: z.number().optional(),
  scale: z.number().optional(),
  original_dtype: z.string().optional(),
});

const WeightEntry = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(['float32', 'int32', 'bool']),
  quantization: Quantization.optional(),
});
export type WeightEntry = z.infer<typeof WeightEntry>;

const TensorInfo = z.object({
  name: z.string(),
  dtype: z.string().optional(),
  tensorShape: z.object({ dim: z.array(z.object({ size: z.union([z.string(), z.number()]).optional() })).optional() }).optional(),
});

export const GraphModelJson = z.object({
  format: z.literal('graph-model', { error: 'expects a TF.js graph model ("format": "graph-model"); layers models are not supported' }),
  signature: z
    .object({ inputs: z.record(z.string(), TensorInfo).optional(), outputs: z.record(z.string(), TensorInfo).optional() })
    .optional(),
  modelTopology: z.object({ node: z.array(NodeDef).min(1), library: z.object({ function: z.array(z.unknown()).optional() }).loose().optional() }).loose(),
  weightsManifest: z.array(z.object({ paths: z.array(z.string().min(1)).min(1), weights: z.array(WeightEntry) })),
});
export type GraphModelJson = z.infer<typeof GraphModelJson>;
export type SignatureTensor = z.infer<typeof TensorInfo>;

export class TfjsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TfjsFormatError';
  }
}

export function parseGraphModel(text: string, model: string): GraphModelJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TfjsFormatError(`${model}: model.json is not JSON (${(err as Error).message})`);
  }
  const parsed = GraphModelJson.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new TfjsFormatError(`${model}: not a TF.js graph model: ${first?.path.join('.') || '(root)'}: ${first?.message}`);
  }
  if ((parsed.data.modelTopology.library?.function?.length ?? 0) > 0) {
    throw new TfjsFormatError(`${model}: the graph defines functions (TF control flow such as while loops), which the importer does not convert`);
  }
  return parsed.data;
}

/** Decoded attribute accessors: TF.js writes strings as base64 and ints as decimal strings. */
export class Attrs {
  constructor(
    private readonly node: NodeDef,
    private readonly model: string,
  ) {}

  private get(key: string): AttrValue | undefined {
    return this.node.attr[key];
  }

  private missing(key: string): never {
    throw new TfjsFormatError(`${this.model}: ${this.node.op} node ${this.node.name} has no "${key}" attribute`);
  }

  str(key: string, fallback?: string): string {
    const v = this.get(key)?.s;
    if (v === undefined) return fallback ?? this.missing(key);
    return Buffer.from(v, 'base64').toString('utf8');
  }

  strs(key: string): string[] {
    return (this.get(key)?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
  }

  int(key: string, fallback?: number): number {
    const v = this.get(key)?.i;
    if (v === undefined) return fallback ?? this.missing(key);
    return Number(v);
  }

  ints(key: string, fallback?: number[]): number[] {
    const v = this.get(key)?.list?.i;
    if (v === undefined) return fallback ?? this.missing(key);
    return v.map(Number);
  }

  float(key: string, fallback?: number): number {
    const v = this.get(key)?.f;
    if (v === undefined) return fallback ?? this.missing(key);
    return v;
  }

  bool(key: string, fallback = false): boolean {
    return this.get(key)?.b ?? fallback;
  }

  type(key: string): string | undefined {
    return this.get(key)?.type;
  }
}
