import fs from 'node:fs';
import path from 'node:path';
import type { ConvertSourceSpec, ModelSpec, NpmChunksSourceSpec, NpmSourceSpec, UrlSourceSpec } from '../manifest.js';
import type { ProgressListener } from '../progress.js';
import { commitFile, tempPathFor, writeFileAtomic } from './atomic.js';
import type { ConverterRegistry } from './converters.js';
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
  }
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
function chunksPlan(id: string, s: NpmChunksSourceSpec, ctx: PlanContext): FetchPlan {
  const dest = path.join(ctx.modelDir, s.file);
  const temp = tempPathFor(dest);
  let offset = 0;
  const wants = s.chunks.map((c) => {
    const want = { path: c.path, dest: temp, position: offset, sha256: c.sha256, size: c.size };
    offset += c.size;
    return want;
  });
  return {
    id,
    what: `npm ${s.package}`,
    npm: { spec: s.package, wants },
    prepare: async () => {
      if (offset !== s.size) throw new Error(`the chunks of ${id} add up to ${offset} bytes, the manifest says ${s.size}`);
      await fs.promises.writeFile(temp, '');
      await fs.promises.truncate(temp, s.size);
    },
    complete: async () => {
      const actual = await sha256File(temp);
      if (actual !== s.sha256) throw checksumMismatch(id, `${dest} (assembled from ${s.chunks.length} chunks)`, s.sha256, actual);
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

/** The inputs are fetched (and verified) like any source, converted, and only the output is kept. */
function convertPlan(id: string, s: ConvertSourceSpec, ctx: PlanContext): FetchPlan {
  const dest = path.join(ctx.modelDir, s.file);
  const from = s.from;
  const inputs =
    from.kind === 'npm'
      ? from.files.map((f) => ({ name: f.file, want: { path: f.path, dest: tempPathFor(path.join(ctx.modelDir, f.file)), sha256: f.sha256, size: f.size } }))
      : [];
  const inputPaths = from.kind === 'npm' ? inputs.map((i) => i.want.dest) : [path.join(ctx.modelDir, from.file)];
  const names = from.kind === 'npm' ? inputs.map((i) => i.name) : [from.file];
  return {
    id,
    what: from.kind === 'npm' ? `npm ${from.package} (${s.converter} conversion)` : `${from.url} (${s.converter} conversion)`,
    npm: from.kind === 'npm' ? { spec: from.package, wants: inputs.map((i) => i.want) } : undefined,
    prepare: async () => undefined,
    complete: async (signal) => {
      if (from.kind === 'url') await fetchUrlFile(id, from, inputPaths[0]!, ctx, signal);
      ctx.onProgress({ key: id, phase: 'convert', received: 0 });
      const bytes = await Promise.all(inputPaths.map((p) => fs.promises.readFile(p)));
      const convert = await ctx.converters[s.converter]();
      const output = await convert(new Map(names.map((n, i) => [n, new Uint8Array(bytes[i]!)])));
      await writeConverted(id, s, dest, output);
      if (from.kind === 'npm') await removeAll(inputPaths);
      ctx.onProgress({ key: id, phase: 'done', received: output.length });
    },
    discard: () => removeAll(from.kind === 'npm' ? inputPaths : []),
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
