import fs from 'node:fs';
import path from 'node:path';
import { SERVICE_ROOT, type ConvertSourceSpec, type LocalSourceSpec, type ModelSpec, type NpmChunksSourceSpec, type NpmSourceSpec, type UrlSourceSpec } from '../manifest.js';
import type { ProgressListener } from '../progress.js';
import { commitFile, tempPathFor, writeFileAtomic } from './atomic.js';
import type { ConvertOptions, ConverterRegistry } from './converters.js';
import { checksumMismatch } from './errors.js';
import { sha256Bytes, sha256File } from './hash.js';
import { readRecord, writeRecord } from './integrity.js';
import type { TarballWant } from './npm-fetch.js';
import { downloadResumable } from './url-fetch.js';

export interface PlanContext {
  modelDir: string;
  timeoutMs: number;
  converters: ConverterRegistry;
  onProgress: ProgressListener;
}

/**
 * How one model's files get into MODEL_DIR. Tarball entries are listed, not fetched, so the store
 * can stream each package once for every model that needs it; `complete` runs after they landed.
 */
export interface FetchPlan {
  id: string;
  /** The source, for messages: "npm faceplugin-face-recognition-js@0.0.1", a URL… */
  what: string;
  npm?: { spec: string; wants: TarballWant[] };
  prepare(): Promise<void>;
  complete(signal?: AbortSignal): Promise<void>;
  /** Drops temp files of a failed fetch (a url's `.partial` stays, to resume). */
  discard(): Promise<void>;
}

export function planFetch(model: ModelSpec, ctx: PlanContext): FetchPlan {
  const s = model.source;
  switch (s.kind) {
    case 'npm':
      return npmPlan(model.id, s, ctx);
    case 'npm-chunks':
      return chunksPlan(model.id, s, ctx);
    case 'url':
      return urlPlan(model.id, s, ctx);
    case 'convert':
      return convertPlan(model.id, s, ctx);
    case 'local':
      return localPlan(model.id, s, ctx);
  }
}

/** Nothing to fetch: the pull fails saying how to make the file, and the store names where it goes. */
function localPlan(id: string, s: LocalSourceSpec, ctx: PlanContext): FetchPlan {
  return {
    id,
    what: `an operator export (${s.file})`,
    prepare: async () => undefined,
    complete: async () => {
      if (fs.existsSync(path.join(ctx.modelDir, s.file))) return;
      throw new Error(`${id} has no public download: ${s.export}`);
    },
    discard: async () => undefined,
  };
}

const removeAll = (files: string[]) => Promise.all(files.map((f) => fs.promises.rm(f, { force: true }))).then(() => undefined);

function npmPlan(id: string, s: NpmSourceSpec, ctx: PlanContext): FetchPlan {
  const files = s.files.map((f) => ({ ...f, dest: path.join(ctx.modelDir, f.file), temp: tempPathFor(path.join(ctx.modelDir, f.file)) }));
  return {
    id,
    what: `npm ${s.package}`,
    npm: { spec: s.package, wants: files.map((f) => ({ path: f.path, dest: f.temp, sha256: f.sha256, size: f.size })) },
    prepare: async () => undefined,
    complete: async () => {
      for (const f of files) await commitFile(f.temp, f.dest);
    },
    discard: () => removeAll(files.map((f) => f.temp)),
  };
}

/** Chunks arrive in tarball order, not file order: each is written at its offset in one file. */
function chunkWants(s: NpmChunksSourceSpec, temp: string): TarballWant[] {
  let offset = 0;
  return s.chunks.map((c) => {
    const want = { path: c.path, dest: temp, position: offset, sha256: c.sha256, size: c.size };
    offset += c.size;
    return want;
  });
}

/** Sizes the assembly file so chunks can be written at their offsets in any order. */
async function prepareAssembly(id: string, s: NpmChunksSourceSpec, temp: string): Promise<void> {
  const total = s.chunks.reduce((sum, c) => sum + c.size, 0);
  if (total !== s.size) throw new Error(`the chunks of ${id} add up to ${total} bytes, the manifest says ${s.size}`);
  await fs.promises.writeFile(temp, '');
  await fs.promises.truncate(temp, s.size);
}

async function verifyAssembly(id: string, s: NpmChunksSourceSpec, temp: string, dest: string): Promise<void> {
  const actual = await sha256File(temp);
  if (actual !== s.sha256) throw checksumMismatch(id, `${dest} (assembled from ${s.chunks.length} chunks)`, s.sha256, actual);
}

function chunksPlan(id: string, s: NpmChunksSourceSpec, ctx: PlanContext): FetchPlan {
  const dest = path.join(ctx.modelDir, s.file);
  const temp = tempPathFor(dest);
  return {
    id,
    what: `npm ${s.package}`,
    npm: { spec: s.package, wants: chunkWants(s, temp) },
    prepare: () => prepareAssembly(id, s, temp),
    complete: async () => {
      await verifyAssembly(id, s, temp, dest);
      await commitFile(temp, dest);
    },
    discard: () => removeAll([temp]),
  };
}

/** Downloads (resuming a `.partial`), verifies or records the digest, then renames into place. */
async function fetchUrlFile(id: string, s: UrlSourceSpec, dest: string, ctx: PlanContext, signal?: AbortSignal): Promise<void> {
  const partial = `${dest}.partial`;
  let received = 0;
  try {
    await downloadResumable(s.url, partial, {
      timeoutMs: ctx.timeoutMs,
      signal,
      onBytes: (n, total) => {
        received = n;
        ctx.onProgress({ key: id, phase: 'download', received, total: total ?? s.size });
      },
    });
  } catch (err) {
    ctx.onProgress({ key: id, phase: 'failed', received });
    throw err;
  }
  const actual = await sha256File(partial);
  const expected = s.sha256 ?? (await readRecord(dest));
  if (expected !== undefined && actual !== expected) {
    await fs.promises.rm(partial, { force: true });
    throw checksumMismatch(id, `${dest} (downloaded from ${s.url})`, expected, actual);
  }
  if (expected === undefined) await writeRecord(dest, actual);
  await commitFile(partial, dest);
  ctx.onProgress({ key: id, phase: 'done', received });
}

function urlPlan(id: string, s: UrlSourceSpec, ctx: PlanContext): FetchPlan {
  return {
    id,
    what: s.url,
    prepare: async () => undefined,
    complete: (signal) => fetchUrlFile(id, s, path.join(ctx.modelDir, s.file), ctx, signal),
    discard: async () => undefined,
  };
}

interface ConvertInputs {
  names: string[];
  paths: string[];
  npm?: { spec: string; wants: TarballWant[] };
  /** Runs before the tarball is read (sizing a chunk assembly). */
  prepare(): Promise<void>;
  /** Runs after: fetches a url input, or verifies an assembled one. */
  fetch(signal?: AbortSignal): Promise<void>;
}

/** Where a converter's inputs come from: files of a package, chunks of a package, or a download. */
function convertInputs(id: string, from: ConvertSourceSpec['from'], ctx: PlanContext): ConvertInputs {
  if (from.kind === 'npm') {
    const wants = from.files.map((f) => ({ path: f.path, dest: tempPathFor(path.join(ctx.modelDir, f.file)), sha256: f.sha256, size: f.size }));
    return { names: from.files.map((f) => f.file), paths: wants.map((w) => w.dest), npm: { spec: from.package, wants }, prepare: async () => undefined, fetch: async () => undefined };
  }
  if (from.kind === 'npm-chunks') {
    const temp = tempPathFor(path.join(ctx.modelDir, from.file));
    return {
      names: [from.file], paths: [temp], npm: { spec: from.package, wants: chunkWants(from, temp) },
      prepare: () => prepareAssembly(id, from, temp),
      fetch: () => verifyAssembly(id, from, temp, path.join(ctx.modelDir, from.file)),
    };
  }
  const dest = path.join(ctx.modelDir, from.file);
  return { names: [from.file], paths: [dest], prepare: async () => undefined, fetch: (signal) => fetchUrlFile(id, from, dest, ctx, signal) };
}

function convertOptions(s: ConvertSourceSpec): ConvertOptions {
  const { calibration: c } = s;
  return {
    ...(s.passes ? { passes: s.passes } : {}),
    ...(c ? { calibration: { dir: path.join(SERVICE_ROOT, c.images), input: { name: c.input, width: c.width, height: c.height, mean: c.mean, std: c.std } } } : {}),
  };
}

/** The inputs are fetched (and verified) like any source, converted, and only the output is kept. */
function convertPlan(id: string, s: ConvertSourceSpec, ctx: PlanContext): FetchPlan {
  const dest = path.join(ctx.modelDir, s.file);
  const inputs = convertInputs(id, s.from, ctx);
  const temporary = s.from.kind === 'url' ? [] : inputs.paths;
  return {
    id,
    what: `${s.from.kind === 'url' ? s.from.url : `npm ${s.from.package}`} (${s.converter} conversion)`,
    npm: inputs.npm,
    prepare: () => inputs.prepare(),
    complete: async (signal) => {
      await inputs.fetch(signal);
      ctx.onProgress({ key: id, phase: 'convert', received: 0 });
      const bytes = await Promise.all(inputs.paths.map((p) => fs.promises.readFile(p)));
      const convert = await ctx.converters[s.converter]();
      const output = await convert(new Map(inputs.names.map((n, i) => [n, new Uint8Array(bytes[i]!)])), convertOptions(s));
      await writeConverted(id, s, dest, output);
      await removeAll(temporary);
      ctx.onProgress({ key: id, phase: 'done', received: output.length });
    },
    discard: () => removeAll(temporary),
  };
}

async function writeConverted(id: string, s: ConvertSourceSpec, dest: string, output: Uint8Array): Promise<void> {
  const actual = sha256Bytes(output);
  if (s.sha256 !== undefined && actual !== s.sha256) {
    throw checksumMismatch(id, `${dest} (output of the ${s.converter} converter)`, s.sha256, actual);
  }
  await writeFileAtomic(dest, output);
  if (s.sha256 === undefined) await writeRecord(dest, actual);
}
