/**
 * The ncnn `.param` text format: magic `7767517`, `layer_count blob_count`, then one line per
 * layer: `type name n_in n_out in_blobs… out_blobs… key=value…`. A key at or below -23300 holds
 * an array for key `-(key + 23300)`, written `count,v1,…,vcount`.
 */

export const NCNN_MAGIC = '7767517';
const ARRAY_KEY_BASE = -23300;

export type ParamValue = number | number[];

export interface NcnnLayer {
  type: string;
  name: string;
  inputs: string[];
  outputs: string[];
  params: Map<number, ParamValue>;
}

export class NcnnFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NcnnFormatError';
  }
}

function parseNumber(text: string, where: string): number {
  const n = Number(text);
  if (text === '' || !Number.isFinite(n)) throw new NcnnFormatError(`${where}: "${text}" is not a number`);
  return n;
}

function parseParam(token: string, where: string): [number, ParamValue] {
  const eq = token.indexOf('=');
  if (eq <= 0) throw new NcnnFormatError(`${where}: expected key=value, got "${token}"`);
  const key = parseNumber(token.slice(0, eq), where);
  const value = token.slice(eq + 1);
  if (key > ARRAY_KEY_BASE) return [key, parseNumber(value, `${where} key ${key}`)];
  const realKey = -(key - ARRAY_KEY_BASE);
  const [count, ...items] = value.split(',').map((v) => parseNumber(v, `${where} key ${key}`));
  if (count !== items.length) {
    throw new NcnnFormatError(`${where}: array key ${key} declares ${count} values but holds ${items.length}`);
  }
  return [realKey, items];
}

function parseLayer(line: string, lineNo: number): NcnnLayer {
  const tokens = line.trim().split(/\s+/);
  const where = `param line ${lineNo}`;
  const [type, name, nIn, nOut] = tokens;
  if (type === undefined || name === undefined || nIn === undefined || nOut === undefined) {
    throw new NcnnFormatError(`${where}: expected "type name n_in n_out …", got "${line.trim()}"`);
  }
  const inCount = parseNumber(nIn, where);
  const outCount = parseNumber(nOut, where);
  const blobs = tokens.slice(4, 4 + inCount + outCount);
  if (blobs.length !== inCount + outCount) throw new NcnnFormatError(`${where}: layer ${name} lists too few blobs`);
  const params = new Map<number, ParamValue>();
  for (const token of tokens.slice(4 + inCount + outCount)) {
    const [key, value] = parseParam(token, `${where} (${name})`);
    params.set(key, value);
  }
  return { type, name, inputs: blobs.slice(0, inCount), outputs: blobs.slice(inCount), params };
}

/** Parses a `.param` file; the declared layer and blob counts are checked against the body. */
export function parseNcnnParam(text: string): NcnnLayer[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines[0]?.trim() !== NCNN_MAGIC) {
    throw new NcnnFormatError(`not an ncnn .param file: the first line is not the magic ${NCNN_MAGIC}`);
  }
  const [layerCount, blobCount] = (lines[1] ?? '').trim().split(/\s+/).map(Number);
  const layers = lines.slice(2).map((line, i) => parseLayer(line, i + 3));
  if (layers.length !== layerCount) {
    throw new NcnnFormatError(`the .param header declares ${layerCount} layers but the file has ${layers.length}`);
  }
  const blobs = new Set(layers.flatMap((l) => l.outputs));
  if (blobs.size !== blobCount) {
    throw new NcnnFormatError(`the .param header declares ${blobCount} blobs but the layers produce ${blobs.size}`);
  }
  return layers;
}

/** Typed access to one layer's params, with ncnn's defaults. */
export class LayerParams {
  constructor(private readonly layer: NcnnLayer) {}

  num(key: number, fallback: number): number {
    const v = this.layer.params.get(key);
    if (v === undefined) return fallback;
    if (typeof v === 'number') return v;
    throw new NcnnFormatError(`${this.layer.type} ${this.layer.name}: key ${key} holds an array, expected a number`);
  }

  array(key: number): number[] {
    const v = this.layer.params.get(key);
    if (v === undefined) return [];
    if (Array.isArray(v)) return v;
    throw new NcnnFormatError(`${this.layer.type} ${this.layer.name}: key ${key} holds a number, expected an array`);
  }
}
